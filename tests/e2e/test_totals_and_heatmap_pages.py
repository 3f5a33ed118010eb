"""The totals page (periods labelled with their year, twelve a page, paged back in time, in
the user's units) and the heatmap page and API (regions far apart, each over the map)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time

from activities import ingest
from activities.models import Profile
from reconciler.sweep import sweep_once
from records import charts
from tests.conftest import NOW
from tests.db.test_records import run_gpx
from tests.unit.test_records import read_png

pytestmark = pytest.mark.django_db


def _total(day: str, sport: str = "running", metres: float = 10_000.0) -> dict:
    return {"period_start": day, "sport": sport, "count": 1, "distance_m": metres,
            "moving_s": 3000.0, "ascent_m": 50.0}


def test_labels_carry_the_year():
    assert charts.label("year", date(2025, 1, 1)) == "2025"
    assert charts.label("month", date(2025, 3, 1)) == "Mar 2025"
    assert charts.label("week", date(2025, 3, 3)) == "3 Mar 2025"


def test_a_page_is_twelve_consecutive_periods_empty_ones_included():
    totals = [_total("2025-01-06"), _total("2025-03-03"), _total("2025-03-03", "cycling")]
    page = charts.page(totals, "week", end=None, units="metric")
    assert len(page["bars"]) == charts.BARS
    assert page["bars"][-1]["label"] == "3 Mar 2025"  # the newest week with an activity
    assert page["bars"][0]["label"] == "16 Dec 2024"
    assert [b["distance"] for b in page["bars"]].count("—") == 10
    assert page["bars"][-1]["distance"] == "20.0 km"
    # The oldest week is on this page: nothing earlier, nothing later.
    assert page["earlier"] is None and page["later"] is None
    assert [r["label"] for r in page["rows"]] == ["3 Mar 2025", "3 Mar 2025", "6 Jan 2025"]


def test_pages_go_back_in_time_and_forward_again():
    totals = [_total(f"{year}-01-01") for year in range(2001, 2026)]
    newest = charts.page(totals, "year", end=None, units="metric")
    assert (newest["first"], newest["last"]) == ("2014", "2025")
    assert newest["later"] is None and newest["earlier"] == "2013-01-01"
    middle = charts.page(totals, "year", end=date(2013, 1, 1), units="metric")
    assert (middle["first"], middle["last"]) == ("2002", "2013")
    assert middle["later"] == "2025-01-01" and middle["earlier"] == "2001-01-01"
    oldest = charts.page(totals, "year", end=date(2001, 1, 1), units="metric")
    assert oldest["earlier"] is None and (oldest["first"], oldest["last"]) == ("2001", "2012")
    # Beyond either end: the nearest real page.
    assert charts.page(totals, "year", end=date(2090, 1, 1), units="metric")["last"] == "2025"
    before = charts.page(totals, "year", end=date(1900, 1, 1), units="metric")
    assert (before["first"], before["last"]) == ("2001", "2012")


def test_months_roll_over_years_and_miles_for_imperial():
    totals = [_total("2024-11-01", metres=16093.44), _total("2025-02-01")]
    page = charts.page(totals, "month", end=None, units="imperial")
    labels = [b["label"] for b in page["bars"]]
    assert labels[-4:] == ["Nov 2024", "Dec 2024", "Jan 2025", "Feb 2025"]
    assert page["rows"][-1]["distance"] == "10.0 mi"
    assert page["rows"][-1]["climb"] == "164 ft"


@pytest.fixture
def ran(user):
    with freeze_time(NOW):
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="run.gpx")
        ingest.accept(run_gpx(speed_mps=4.0, start=datetime(2025, 6, 2, 7, tzinfo=UTC)),
                      owner=user, original_name="old.gpx")
        ingest.accept(run_gpx(speed_mps=4.0, lon0=-74.0, points=100,
                              start=datetime(2025, 8, 4, 7, tzinfo=UTC)),
                      owner=user, original_name="new-york.gpx")
        for _ in range(5):
            sweep_once()


def test_totals_page(client, user, ran):
    client.force_login(user)
    page = client.get("/totals/").content.decode()
    assert "12 Jan 2026" in page and "1.6 km" in page
    assert "<svg" in page and 'rel="prev"' in page
    earlier = re.search(r'href="\?period=week&amp;end=([\d-]+)" rel="prev"', page).group(1)
    back = client.get(f"/totals/?period=week&end={earlier}").content.decode()
    assert "4 Aug 2025" in back and 'rel="next"' in back
    months = client.get("/totals/?period=month").content.decode()
    assert "Jan 2026" in months and "Jun 2025" in months
    assert "2026" in client.get("/totals/?period=year").content.decode()
    # What the page cannot read: the newest weeks, not an error.
    assert client.get("/totals/?period=fortnight&end=yesterday").status_code == 200
    Profile.objects.create(user=user, units="imperial")
    assert "1.0 mi" in client.get("/totals/").content.decode()


def test_heatmap_page_and_regions(client, api, user, ran, settings):
    client.force_login(user)
    page = client.get("/heatmap/")
    text = page.content.decode()
    # Slovenia (two runs) first, then New York: two regions, a link to each.
    assert "around 46.0° N, 14.5° E (2 routes)" in text
    assert 'href="?region=1"' in text and "74.0° W (1 route)" in text
    config = page.context["config"]
    (south, west), (north, east) = config["bounds"]
    assert south < 46.0 < north and west < 14.5 < east
    assert config["image"].startswith("/api/v1/heatmap.png?region=0")
    assert config["tiles"] == ""  # the tests run without tiles
    assert "plain dark background" in text
    second = client.get("/heatmap/?region=1").context["config"]
    (south, west), (north, east) = second["bounds"]
    assert west < -74.0 < east
    alt = re.search(r'alt="(Where your activities went [^"]*)"',
                    client.get("/heatmap/?region=1").content.decode()).group(1)
    assert "74.0° W" in alt
    assert client.get("/heatmap/?region=9").context["index"] == 0
    settings.CAIRN_MAP_TILES = "https://tiles.example.org/{z}/{x}/{y}.png"
    assert client.get("/heatmap/").context["config"]["tiles"].startswith("https://tiles.")
    # The API: the busiest region by default, another by number, a sentence otherwise.
    assert (read_png(api.get("/api/v1/heatmap.png").content)
            == read_png(api.get("/api/v1/heatmap.png?region=0").content)).all()
    assert (read_png(api.get("/api/v1/heatmap.png?region=1").content)[..., 3] > 0).any()
    for bad in ("x", "-1", "²", "1.5"):
        refused = api.get("/api/v1/heatmap.png", {"region": bad})
        assert refused.status_code == 400 and "number" in refused.json()["error"]["message"]
    assert client.get("/heatmap/?region=²").context["index"] == 0
    assert api.get("/api/v1/heatmap.png?region=2").status_code == 404


def test_heatmap_page_before_any_activity(client, user):
    client.force_login(user)
    assert "No heatmap yet" in client.get("/heatmap/").content.decode()
