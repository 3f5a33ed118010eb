"""The `charts` deriver: bounded profiles against distance and time, pace where it is read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.derivers import charts
from core.derivers.charts import CHARTS
from core.summarize import summarize
from core.track import Track
from tests.unit.derivers.tracks import T0, northward, wiggly, without_gps


def test_every_profile_of_a_long_track_is_a_few_hundred_points():
    out = CHARTS.derive(wiggly(100_000))
    for axis, x_name in (("by_distance", "distance_m"), ("by_time", "time_s")):
        profile = out[axis]
        assert set(profile) == {x_name, "elevation_m", "speed_mps", "hr_bpm"}
        assert all(len(values) == len(profile[x_name]) <= charts.MAX_POINTS
                   for values in profile.values())
        assert np.all(np.diff(profile[x_name]) > 0)
    assert len(CHARTS.codec.dumps(out)) < 40_000


@pytest.mark.parametrize(("sport", "kind"), [
    ("running", "pace"),
    ("trail running", "pace"),  # a GPX <type>
    ("hiking", "pace"),
    ("walking", "pace"),
    ("cycling", "speed"),
    ("multisport", "speed"),
    (None, "speed"),  # unknown: speed is the safe reading
])
def test_pace_for_sports_on_foot(sport, kind):
    out = CHARTS.derive(northward(100, speed_mps=3.0, sport=sport))
    assert out["speed_kind"] == kind
    assert ("pace_s_per_km" in out["by_time"]) == (kind == "pace")
    assert ("speed_mps" in out["by_time"]) == (kind == "speed")


def test_pace_is_seconds_per_kilometre():
    out = CHARTS.derive(northward(1000, speed_mps=4.0, sport="running"))
    pace = np.array(out["by_distance"]["pace_s_per_km"], dtype=float)
    assert np.nanmedian(pace) == pytest.approx(250, abs=1)


def test_speed_against_distance_and_time():
    out = CHARTS.derive(northward(600, speed_mps=8.0, sport="cycling"))
    for axis in ("by_distance", "by_time"):
        speed = np.array(out[axis]["speed_mps"], dtype=float)
        assert np.nanmedian(speed) == pytest.approx(8.0, abs=0.05)
    assert out["by_distance"]["distance_m"][-1] == pytest.approx(599 * 8.0, rel=0.01)
    assert out["by_time"]["time_s"][-1] == pytest.approx(599, rel=0.01)


def test_elevation_profile_follows_the_climb():
    out = CHARTS.derive(northward(1000, ele=np.linspace(100, 200, 1000)))
    elevation = out["by_distance"]["elevation_m"]
    assert elevation[0] == pytest.approx(100, abs=0.5) and elevation[-1] == pytest.approx(200,
                                                                                         abs=0.5)
    assert np.all(np.diff(elevation) >= 0)


def test_a_heart_rate_of_zero_is_no_reading():
    hr = np.full(200, 150.0)
    hr[:100] = 0.0  # the strap was not on yet
    profile = CHARTS.derive(northward(200, hr=hr))["by_time"]
    assert set(profile["hr_bpm"]) <= {None, 150}


def test_a_long_pause_is_cut_out_of_the_time_axis():
    track = northward(200, ele=np.full(200, 300.0))
    track.time[100:] += 1800  # half an hour at a café, not recording
    out = CHARTS.derive(track)
    assert out["by_time"]["time_s"][-1] < 200
    assert None not in out["by_time"]["elevation_m"]


def test_a_short_gap_between_segments_is_a_gap_on_the_time_axis():
    track = northward(200, ele=np.full(200, 300.0), segment_starts=(0, 100))
    track.time[100:] += 60  # the recording restarted a minute later
    by_time = CHARTS.derive(track)["by_time"]
    gap = [i for i, t in enumerate(by_time["time_s"]) if 100 < t < 159]
    assert gap and all(by_time["elevation_m"][i] is None for i in gap)


def test_sparse_points_leave_no_holes():
    track = northward(50)
    track.time[:] = T0 + np.arange(50) * 10.0  # smart recording: a point every 10 s
    track.columns["ele"] = np.linspace(0, 49, 50)
    out = CHARTS.derive(track)
    assert None not in out["by_time"]["elevation_m"]


def test_without_timestamps_there_is_no_time_axis_and_no_speed():
    track = northward(300, ele=np.full(300, 10.0))
    track.time[:] = np.nan
    out = CHARTS.derive(track)
    assert out["by_time"] is None
    assert set(out["by_distance"]) == {"distance_m", "elevation_m"}


def test_an_indoor_ride_charts_against_the_trainers_distance():
    out = CHARTS.derive(without_gps())
    assert out["by_distance"]["distance_m"][-1] == pytest.approx(480, abs=10)
    assert np.nanmedian(np.array(out["by_time"]["speed_mps"], dtype=float)) == 8.0


def test_no_time_and_no_distance_gives_no_charts():
    out = CHARTS.derive(Track(format="fit", columns={"hr": np.full(10, 120.0)}))
    assert out["by_distance"] is None and out["by_time"] is None


def test_charts_are_strict_json():
    json.loads(CHARTS.codec.dumps(CHARTS.derive(northward(50, hr=np.full(50, np.nan)))))


def test_power_and_cadence_profiles_where_recorded():
    n = 600
    track = northward(n, cadence=np.full(n, 90.0), power=np.where(np.arange(n) < 300, 200.0, 0.0))
    profile = CHARTS.derive(track)["by_time"]
    assert profile["cadence"][0] == 90
    assert profile["power_w"][0] == 200 and profile["power_w"][-1] == 0  # coasting is a reading
    assert "power_w" not in CHARTS.derive(northward(n))["by_time"]


def test_the_power_charts_top_is_the_summarys_top_power_on_both_axes():
    # 5,000 points into 400 bins: a one-second surge of 331 W among 180-280 W would be
    # averaged away (the chart topping near 281 W while the summary says 331 W).
    n = 5000
    rng = np.random.default_rng(3)
    power = rng.uniform(180, 280, n)
    power[2345] = 331.0
    track = northward(n, speed_mps=8.0, power=power)
    top = summarize(track)["max_power_w"]
    assert top == 331
    found = CHARTS.derive(track)
    for axis in ("by_time", "by_distance"):
        assert max(v for v in found[axis]["power_w"] if v is not None) == top, axis


def test_the_elevation_profile_keeps_the_highest_and_the_lowest_reading():
    # The playback shows elevations the chart must hold: a one-point dip and peak.
    n = 5000
    ele = 300 + 5 * np.sin(np.arange(n) / 200)
    ele[1000], ele[4000] = 250.0, 360.0
    found = CHARTS.derive(northward(n, speed_mps=8.0, ele=ele))
    for axis in ("by_time", "by_distance"):
        values = [v for v in found[axis]["elevation_m"] if v is not None]
        assert (min(values), max(values)) == (250.0, 360.0), axis
