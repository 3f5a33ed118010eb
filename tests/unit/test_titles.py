"""core.titles: Strava-style titles from the start's local time at its place and the sport,
the file's own name where it is a real one, never a file name or a number."""

from datetime import UTC, datetime

import numpy as np
import pytest

from core import summarize, titles
from core.decode import gpx
from core.track import Track
from tests import factories

TOKYO = (35.68, 139.69)
NEW_YORK = (40.71, -74.01)
# 06:30 in Tokyo (UTC+9) on 1 July 2024 is 21:30 UTC the day before, 17:30 in New York
# (UTC-4 in summer).
INSTANT = datetime(2024, 6, 30, 21, 30, tzinfo=UTC).timestamp()


def test_the_same_instant_is_morning_in_tokyo_and_evening_in_new_york():
    assert titles.title(sport="running", start=INSTANT, lat=TOKYO[0], lon=TOKYO[1]) == \
        "Morning Run"
    assert titles.title(sport="running", start=INSTANT, lat=NEW_YORK[0], lon=NEW_YORK[1]) == \
        "Evening Run"


@pytest.mark.parametrize(("hour", "part"), [
    (4, "Night"), (5, "Morning"), (10, "Morning"), (11, "Lunch"), (12, "Lunch"),
    (13, "Afternoon"), (16, "Afternoon"), (17, "Evening"), (20, "Evening"), (21, "Night"),
    (0, "Night"),
])
def test_parts_of_the_day_by_the_local_hour(hour, part):
    # Greenwich (UTC+0 in winter): the local hour is the UTC hour.
    start = datetime(2024, 1, 15, hour, 5, tzinfo=UTC).timestamp()
    assert titles.title(sport="cycling", start=start, lat=51.48, lon=0.0) == f"{part} Ride"


def test_daylight_saving_time_moves_the_hour():
    # 16:30 UTC is 17:30 in Berlin in winter (UTC+1) and 18:30 in summer: both evening;
    # 15:30 UTC is 16:30 (afternoon) in winter and 17:30 (evening) in summer.
    winter = datetime(2024, 1, 15, 15, 30, tzinfo=UTC).timestamp()
    summer = datetime(2024, 7, 15, 15, 30, tzinfo=UTC).timestamp()
    assert titles.title(sport="walking", start=winter, lat=52.52, lon=13.40) == \
        "Afternoon Walk"
    assert titles.title(sport="walking", start=summer, lat=52.52, lon=13.40) == "Evening Walk"


def test_without_position_or_time_the_sport_alone():
    assert titles.title(sport="cycling", start=INSTANT, lat=None, lon=None) == "Ride"
    assert titles.title(sport="swimming", start=None, lat=1.0, lon=1.0) == "Swim"
    assert titles.title(sport=None, start=None, lat=None, lon=None) == "Activity"
    assert titles.title(sport="kitesurfing", start=INSTANT, lat=TOKYO[0], lon=TOKYO[1]) == \
        "Morning Activity"


@pytest.mark.parametrize("name", [
    "1", "2", " 42 ", "2020-12-18 07:24:29", "2013-07-06T14:59:00Z", "03-OCT-10",
    "5/13/18 4:11 PM", "ACTIVE LOG", "ACTIVE LOG 003", "Untitled", "Track 12",
    "tormoder__garmin.fit", "activities/1234.gpx.gz", "dc.zip", "", "   ",
])
def test_file_names_numbers_stamps_and_placeholders_are_not_titles(name):
    assert titles.title(sport="running", start=None, lat=None, lon=None, name=name) == "Run"


@pytest.mark.parametrize("name", ["Morning Swim", "Tag 1", "BIG LOOP", "🌞⛰️⚡",
                                  "120' moderate and hard"])
def test_a_persons_name_is_the_title(name):
    assert titles.title(sport="running", start=INSTANT, lat=TOKYO[0], lon=TOKYO[1],
                        name=name) == name


def _gpx(names: str, *, lat: float, lon: float, start: datetime) -> bytes:
    body = factories.gpx(points=30, start=start, lat0=lat, lon0=lon)
    # factories.gpx names its track "test N": replace it with what the test needs.
    head, _, rest = body.partition(b"<trk><name>")
    return head + names.encode() + b"<trk>" + rest.partition(b"</name>")[2]


def test_gpx_track_name_then_metadata_name_then_time_of_day():
    start = datetime(2024, 6, 30, 21, 30, tzinfo=UTC)
    named = _gpx("", lat=TOKYO[0], lon=TOKYO[1], start=start).replace(
        b"<trk>", b"<trk><name>Hakone loop</name>", 1)
    assert summarize.summarize(gpx.decode(named))["title"] == "Hakone loop"
    meta = _gpx("<metadata><name>Sunday ride</name></metadata>", lat=TOKYO[0], lon=TOKYO[1],
                start=start)
    assert summarize.summarize(gpx.decode(meta))["title"] == "Sunday ride"
    unnamed = _gpx("", lat=NEW_YORK[0], lon=NEW_YORK[1], start=start)
    assert gpx.decode(unnamed).name is None
    # factories.gpx's <type> is cycling.
    assert summarize.summarize(gpx.decode(unnamed))["title"] == "Evening Ride"


def test_a_track_without_positions_is_titled_by_sport():
    track = Track(format="fit", sport="running", columns={
        "time": INSTANT + np.arange(10.0), "hr": np.full(10, 130.0)})
    assert summarize.summarize(track)["title"] == "Run"
