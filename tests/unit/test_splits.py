"""Splits per kilometre and per mile: their distances add up, moving time leaves pauses
out, climb and heart rate per piece."""

from __future__ import annotations

import numpy as np
import pytest

from core import splits
from core.track import Track
from tests.unit.derivers.tracks import T0, northward, without_gps


def test_a_steady_run_splits_into_whole_units_and_a_remainder():
    # 2,500 s at 2 m/s: 5 km, so five 1,000 m splits of 500 s each (within a step).
    track = northward(2501, speed_mps=2.0, sport="running")
    out = splits.splits(track, splits.KM_M)
    assert [s["n"] for s in out] == [1, 2, 3, 4, 5]
    assert [s["distance_m"] for s in out] == pytest.approx([1000] * 5, abs=1)
    assert [s["moving_s"] for s in out] == pytest.approx([500] * 5, abs=2)
    assert all(s["elevation_change_m"] is None and s["avg_hr_bpm"] is None for s in out)


def test_miles_end_with_the_remainder():
    track = northward(2501, speed_mps=2.0)
    out = splits.splits(track, splits.MILE_M)
    assert len(out) == 4  # 3 whole miles and 0.107 mi
    assert out[-1]["distance_m"] == pytest.approx(5000 - 3 * splits.MILE_M, abs=2)
    assert sum(s["distance_m"] for s in out) == pytest.approx(5000, abs=2)


def test_a_remainder_of_a_few_metres_is_not_a_split():
    out = splits.splits(northward(1011, speed_mps=1.0), splits.KM_M)  # 1,010 m
    assert len(out) == 1


def test_a_pause_is_not_moving_time():
    # 1 km in 500 s, a ten-minute stop (no points), then 1 km more.
    first = northward(501, speed_mps=2.0)
    lat = np.concatenate([first.lat, first.lat[-1] + (first.lat[1:] - first.lat[0])])
    time = np.concatenate([first.time, first.time[-1] + 600 + (first.time[1:] - T0)])
    track = Track(format="gpx", columns={"time": time, "lat": lat, "lon": np.full(len(lat), 14.0)})
    out = splits.splits(track, splits.KM_M)
    assert [s["moving_s"] for s in out] == pytest.approx([500, 500], abs=2)


def test_climb_and_heart_rate_per_split():
    n = 2001
    track = northward(n, speed_mps=1.0, ele=np.linspace(100, 300, n),
                      hr=np.where(np.arange(n) < 1000, 120.0, 160.0))
    out = splits.splits(track, splits.KM_M)
    assert [s["elevation_change_m"] for s in out] == pytest.approx([100, 100], abs=0.5)
    assert [s["avg_hr_bpm"] for s in out] == [120, 160]


def test_a_strap_off_is_not_a_heart_rate():
    track = northward(1001, speed_mps=1.0, hr=np.where(np.arange(1001) % 2, 150.0, 0.0))
    assert splits.splits(track, splits.KM_M)[0]["avg_hr_bpm"] == 150


def test_the_device_distance_splits_an_indoor_session():
    out = splits.splits(without_gps(251), splits.KM_M)  # 8 m/s for 250 s: 2 km
    assert [s["moving_s"] for s in out] == pytest.approx([125, 125], abs=1)


def test_nothing_to_split_without_time_or_distance():
    untimed = Track(format="gpx", columns={"lat": np.array([46.0, 46.1]),
                                           "lon": np.array([14.0, 14.0])})
    assert splits.splits(untimed, splits.KM_M) == []
    assert splits.splits(northward(1), splits.KM_M) == []


def test_the_devices_laps_with_their_own_totals():
    from core.track import Session

    laps = (Session(start_time=T0, timer_s=300.0, distance_m=1000.04, avg_hr=140.4),
            Session(start_time=T0 + 300, timer_s=280.0, distance_m=1000.0, ascent_m=12.0))
    track = Track(format="fit", columns=northward(10).columns, laps=laps)
    out = splits.laps(track)
    assert out == [
        {"n": 1, "distance_m": 1000.0, "timer_s": 300.0, "ascent_m": None, "avg_hr_bpm": 140,
         "max_hr_bpm": None},
        {"n": 2, "distance_m": 1000.0, "timer_s": 280.0, "ascent_m": 12.0, "avg_hr_bpm": None,
         "max_hr_bpm": None}]
    # One lap is the whole activity again: nothing to show.
    assert splits.laps(Track(format="fit", columns=track.columns, laps=laps[:1])) == []


def test_laps_survive_the_stored_encoding():
    from core import track as tracks
    from core.track import Session

    laps = (Session(start_time=T0, timer_s=300.0), Session(start_time=T0 + 300, timer_s=5.0))
    track = Track(format="fit", columns=northward(10).columns, laps=laps)
    assert tracks.decode(tracks.encode(track)).laps == laps
    assert "laps" not in tracks.encode(northward(10)).decode("latin-1")  # unchanged without
