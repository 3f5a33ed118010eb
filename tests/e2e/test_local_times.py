"""One rule for time: activities recorded in New York, Sydney and Berlin, seen by users in
other zones. Each activity's times read in its own zone (named where it is not the
reader's), its title agrees, the Strava-compatible API gives the true local start, and
totals count it on its local date, across a week boundary that UTC would get wrong."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

import numpy as np
import pytest
from django.test import Client
from freezegun import freeze_time

from activities import ingest
from activities.models import Activity, Profile
from core.track import Track
from reconciler.sweep import sweep_once
from tests import factories, fitwriter, tcxwriter
from tests.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.storage]

NEW_YORK = (40.7128, -74.0060)
SYDNEY = (-33.8688, 151.2093)
BERLIN = (52.5200, 13.4050)
#: Sunday 1 March 2026, 06:30 in New York (EST, UTC-5).
NY_START = datetime(2026, 3, 1, 11, 30, tzinfo=UTC)
#: Monday 9 March 2026, 07:30 in Sydney (AEDT, UTC+11): still Sunday 8 March in UTC.
SYDNEY_START = datetime(2026, 3, 8, 20, 30, tzinfo=UTC)
#: Monday 9 March 2026, 00:30 in Berlin (CET, UTC+1): still Sunday in UTC.
BERLIN_START = datetime(2026, 3, 8, 23, 30, tzinfo=UTC)


def _east(n: int, lat: float, lon: float, start: datetime) -> dict:
    i = np.arange(n, dtype=np.float64)
    return {"time": start.timestamp() + i * 5, "lat": np.full(n, lat),
            "lon": lon + i * 25 / (111_320 * math.cos(math.radians(lat))),
            "ele": 20 + np.sin(i / 10)}


def new_york_fit() -> bytes:
    points = _east(240, *NEW_YORK, NY_START)
    return fitwriter.activity(
        {"time": points["time"], "lat": points["lat"], "lon": points["lon"]},
        sessions=[fitwriter.Totals(sport="running", start_time=NY_START.timestamp(),
                                   elapsed_s=1195.0, timer_s=1195.0)])


def sydney_tcx() -> bytes:
    return tcxwriter.from_track(Track(format="tcx", sport="running",
                                      columns=_east(240, *SYDNEY, SYDNEY_START)))


def berlin_gpx() -> bytes:
    """An unnamed ride (the factory names its tracks): titled by the time of day."""
    body = factories.gpx(points=240, start=BERLIN_START, lat0=BERLIN[0], lon0=BERLIN[1])
    return re.sub(rb"<name>[^<]*</name>", b"", body)


@pytest.fixture
def recorded(user):
    """The three activities, processed and counted: {"new_york": activity, ...}."""
    made = {}
    with freeze_time(NOW):
        for key, data, name in (("new_york", new_york_fit(), "ny.fit"),
                                ("sydney", sydney_tcx(), "sydney.tcx"),
                                ("berlin", berlin_gpx(), "berlin.gpx")):
            made[key] = ingest.accept(data, owner=user, original_name=name).activity
        for _ in range(6):
            sweep_once()
    for activity in made.values():
        activity.refresh_from_db()
        assert activity.status == Activity.Status.READY
    return made


def _viewer(user, zone: str) -> Client:
    Profile.objects.update_or_create(user=user, defaults={"time_zone": zone})
    browser = Client()
    browser.force_login(user)
    return browser


def _shown(page: str, activity_id: int) -> str:
    """The list entry of one activity, tags removed."""
    entry = page.split(f'href="/activities/{activity_id}/"', 2)[2].split("</li>", 1)[0]
    return " ".join(re.sub(r"<[^>]+>", " ", entry).split())


def test_each_activity_reads_in_its_own_zone_named_for_a_reader_elsewhere(user, recorded):
    page = _viewer(user, "Europe/Berlin").get("/activities/").content.decode()
    new_york = _shown(page, recorded["new_york"].id)
    assert "Morning Run" in new_york and "Sun 1 Mar 2026, 06:30" in new_york
    assert "(New York time)" in new_york
    sydney = _shown(page, recorded["sydney"].id)
    assert "Morning Run" in sydney and "Mon 9 Mar 2026, 07:30 (Sydney time)" in sydney
    berlin = _shown(page, recorded["berlin"].id)
    # The reader's own zone is not named; the title says night as the clock did.
    assert "Night Ride" in berlin and "Mon 9 Mar 2026, 00:30" in berlin
    assert "Berlin time" not in berlin


def test_the_activity_page_names_the_zone_for_a_reader_in_new_york(user, recorded):
    browser = _viewer(user, "America/New_York")
    page = browser.get(f"/activities/{recorded['berlin'].id}/").content.decode()
    assert "Mon 9 Mar 2026, 00:30" in page and "(Berlin time)" in page
    page = browser.get(f"/activities/{recorded['new_york'].id}/").content.decode()
    assert "Sun 1 Mar 2026, 06:30" in page and "New York time" not in page
    status = browser.get(f"/uploads/{recorded['sydney'].upload_id}/").content.decode()
    assert "Mon 9 Mar 2026, 07:30" in status and "(Sydney time)" in status


def test_a_reader_without_a_zone_leaves_the_name_to_the_browser(user, recorded):
    browser = Client()
    browser.force_login(user)
    page = browser.get(f"/activities/{recorded['sydney'].id}/").content.decode()
    # Shown in Sydney's time, never converted; the script hides the name in Sydney.
    assert '<span class="zone-note" data-zone="Australia/Sydney">(Sydney time)</span>' in page
    assert "Mon 9 Mar 2026, 07:30" in page


def test_the_v3_api_gives_the_true_local_start_and_zone(api, recorded):
    body = api.get(f"/api/v3/activities/{recorded['new_york'].id}").json()
    assert body["start_date"] == "2026-03-01T11:30:00Z"
    assert body["start_date_local"] == "2026-03-01T06:30:00Z"
    assert body["timezone"] == "(GMT-05:00) America/New_York"
    assert body["utc_offset"] == -18000.0
    body = api.get(f"/api/v3/activities/{recorded['sydney'].id}").json()
    assert (body["start_date_local"], body["timezone"], body["utc_offset"]) == (
        "2026-03-09T07:30:00Z", "(GMT+11:00) Australia/Sydney", 39600.0)
    assert api.get(f"/api/v1/activities/{recorded['berlin'].id}").json()[
        "timezone"] == "Europe/Berlin"


def test_totals_count_each_activity_on_its_local_date_across_a_week_boundary(api, recorded):
    weeks = {(t["period_start"], t["sport"]): t["count"]
             for t in api.get("/api/v1/totals?period=week").json()["totals"]}
    # Sydney's Monday-morning run and Berlin's after-midnight ride were on Sunday in UTC
    # (week of 2 March); where they happened it was Monday, 9 March.
    assert weeks == {("2026-02-23", "running"): 1, ("2026-03-09", "running"): 1,
                     ("2026-03-09", "cycling"): 1}


def test_an_activity_without_timestamps_counts_on_its_upload_day_and_is_marked(user, api):
    Profile.objects.create(user=user, time_zone="Pacific/Auckland")
    # Sunday 18 January 20:00 UTC is Monday 19 January, 09:00 in Auckland.
    uploaded = datetime(2026, 1, 18, 20, tzinfo=UTC)
    with freeze_time(uploaded):
        activity = ingest.accept(factories.gpx(times=False, seed=1), owner=user,
                                 original_name="untimed.gpx").activity
        for _ in range(6):
            sweep_once()
    totals = api.get("/api/v1/totals?period=week").json()["totals"]
    assert [(t["period_start"], t["count"], t["undated"]) for t in totals] == [
        ("2026-01-19", 1, 1)]
    browser = Client()
    browser.force_login(user)
    page = _shown(browser.get("/activities/").content.decode(), activity.id)
    assert "uploaded Mon 19 Jan 2026, 09:00" in page and "(no time recorded)" in page


def test_changing_ones_zone_moves_undated_activities_to_its_dates(user, api):
    browser = _viewer(user, "UTC")
    with freeze_time(datetime(2026, 1, 18, 20, tzinfo=UTC)):
        ingest.accept(factories.gpx(times=False, seed=2), owner=user, original_name="u.gpx")
        for _ in range(6):
            sweep_once()
    week = lambda: [t["period_start"] for t in api.get("/api/v1/totals?period=week")  # noqa: E731
                    .json()["totals"]]
    assert week() == ["2026-01-12"]
    with freeze_time(datetime(2026, 1, 19, tzinfo=UTC)):
        response = browser.post("/settings/", {"units": "metric",
                                               "time_zone": "Pacific/Auckland"})
        assert response.status_code == 302
        for _ in range(6):
            sweep_once()
    assert week() == ["2026-01-19"]


def test_an_unknown_zone_is_refused_with_a_sentence(user):
    browser = _viewer(user, "")
    response = browser.post("/settings/", {"units": "metric", "time_zone": "Mars/Olympus"})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert Profile.objects.get(user=user).time_zone == ""


def test_the_v3_api_names_the_zone_of_an_activity_without_timestamps(user, api):
    with freeze_time(NOW):
        activity = ingest.accept(factories.gpx(times=False, seed=3, lat0=BERLIN[0],
                                               lon0=BERLIN[1]),
                                 owner=user, original_name="untimed.gpx").activity
        for _ in range(4):
            sweep_once()
        body = api.get(f"/api/v3/activities/{activity.id}").json()
    assert body["start_date"] is None and body["start_date_local"] is None
    # Its place's zone as it was then (January: CET).
    assert (body["timezone"], body["utc_offset"]) == ("(GMT+01:00) Europe/Berlin", 3600.0)
