"""Units as people read them: a runner's cadence in steps per minute (FIT stores strides),
a rider's in rpm, and the user's metric or imperial setting on the records, the totals
and the "New record!" banner, never raw metres."""

from __future__ import annotations

import re
from pathlib import Path

import fitparse
import pytest
from django.test import Client
from freezegun import freeze_time

from activities import display, ingest
from activities.models import Profile
from reconciler.sweep import sweep_once
from records import charts
from tests.conftest import NOW
from tests.corpus import require_corpus
from tests.db.test_records import run_gpx

pytestmark = [pytest.mark.django_db, pytest.mark.storage]


def _process(user, data: bytes, name: str):
    with freeze_time(NOW):
        activity = ingest.accept(data, owner=user, original_name=name).activity
        for _ in range(6):
            sweep_once()
    return activity


def _browser(user, units: str = "metric") -> Client:
    Profile.objects.update_or_create(user=user, defaults={"units": units})
    browser = Client()
    browser.force_login(user)
    return browser


def _fact(page: str, label: str) -> str:
    found = re.search(rf"<dt>{label}</dt><dd>([^<]*)</dd>", page)
    assert found, f"no {label} on the page"
    return found.group(1)


def _session_cadence(path: Path) -> float:
    """The file's own session average, as its device wrote it (cycles per minute)."""
    session = next(iter(fitparse.FitFile(str(path)).get_messages("session")))
    return float(session.get_value("avg_cadence"))


def _cadence_shown(user, corpus_file: str) -> tuple[str, float]:
    """(the activity page's average cadence, the file's session average) of a corpus file."""
    path = require_corpus() / corpus_file
    activity = _process(user, path.read_bytes(), path.name)
    page = _browser(user).get(f"/activities/{activity.id}/").content.decode()
    return _fact(page, "Average cadence"), _session_cadence(path)


@pytest.mark.corpus
def test_a_runners_cadence_is_in_steps_per_minute_twice_the_files_strides(user):
    shown, strides = _cadence_shown(user, "fit/fitparse__activity-small-fenix2-run.fit")
    assert shown.endswith(" steps/min")
    assert strides == 81
    # The summary's mean of the records' readings, doubled: within a step of the device's.
    assert abs(float(shown.split()[0]) - 2 * strides) <= 2


@pytest.mark.corpus
def test_a_riders_cadence_is_in_rpm_as_the_file_says(user):
    shown, turns = _cadence_shown(user, "fit/fitparse__sample-activity-indoor-trainer.fit")
    assert shown.endswith(" rpm")
    assert abs(float(shown.split()[0]) - turns) <= 2


def test_cadence_words():
    assert display.cadence(81.4, "running") == "163 steps/min"
    assert display.cadence(81.4, "hiking") == "163 steps/min"
    assert display.cadence(81.4, "cycling") == "81 rpm"
    assert display.cadence(None, "cycling") == "—"


@pytest.fixture
def ran(user):
    return _process(user, run_gpx(speed_mps=4.0, points=2600), "run.gpx")


def _distance(api, activity) -> float:
    metres = api.get(f"/api/v1/activities/{activity.id}").json()["distance_m"]
    assert 10_300 < metres < 10_400  # 2,599 steps of 4 m
    return metres


def test_records_and_the_new_record_banner_follow_the_imperial_setting(user, api, ran):
    miles = display.distance(_distance(api, ran), "imperial")
    assert miles.startswith("6.4")
    browser = _browser(user, "imperial")
    records = browser.get("/records/").content.decode()
    # The climb of 125 m is 410 ft.
    assert miles in records and "410 ft" in records
    # (Best efforts keep their names: "1 km" is a kind of record, not a measurement.)
    assert not re.search(r"\d\.\d\d km", records) and "125 m<" not in records
    banner = browser.get(f"/activities/{ran.id}/").content.decode().split(
        'class="new-record"', 1)[1].split("</p>", 1)[0]
    assert f"Longest distance ({miles})" in banner and "Most climbing (410 ft)" in banner
    metric = _browser(user, "metric").get("/records/").content.decode()
    assert display.distance(_distance(api, ran), "metric") in metric and "125 m" in metric


def test_totals_show_distances_in_the_users_units_never_raw_metres(user, api, ran):
    page = _browser(user, "imperial").get("/totals/").content.decode()
    table = page.split('<table class="stacking totals">', 1)[1]
    # Totals round to a tenth (records.charts.distance), the activity page to hundredths.
    assert charts.distance(_distance(api, ran), "imperial") in table and "410 ft" in table
    assert not re.search(r"\d{4,} m\b", table)
    metric = _browser(user, "metric").get("/totals/?period=month").content.decode()
    assert charts.distance(_distance(api, ran), "metric") in metric.split(
        '<table class="stacking totals">', 1)[1]


def test_records_name_their_activities_and_the_local_day(user, ran):
    page = _browser(user).get("/records/").content.decode()
    assert f">activity {ran.id}<" not in page
    # Unnamed, at 07:00 UTC in January at 46 N 14.5 E (08:00 local): a morning run.
    assert f'<a href="/activities/{ran.id}/">Morning Run</a>' in page
    assert '<time datetime="2026-01-12T07:00:00Z">12 Jan 2026</time>' in page
    assert "<td>Run</td>" in page and "<td>running</td>" not in page
