"""core.summarize: the summary, device totals first, computed values otherwise."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from core import summarize as summaries
from core.derivers.base import DeriveError
from core.track import Session, Track

T0 = 1714543200.0  # 2024-05-01T06:00:00Z
ONE_DEGREE_M = 2 * math.pi * 6_371_008.8 / 360
KEYS = {"sport", "sub_sport", "start_time", "distance_m", "distance_source", "elapsed_s",
        "moving_s", "ascent_m", "descent_m", "avg_speed_mps", "max_speed_mps", "avg_hr_bpm",
        "max_hr_bpm", "avg_power_w", "max_power_w", "avg_cadence", "point_count", "sessions",
        "parts", "bbox", "title", "timezone"}


def run(n: int = 101, *, fmt: str = "gpx", sessions=(), segment_starts=(0,), **columns) -> Track:
    """n points one second apart, heading north 1e-4 degree (about 11 m) per step."""
    base = {"time": T0 + np.arange(n, dtype=float), "lat": 46 + np.arange(n) * 1e-4,
            "lon": np.full(n, 14.0)}
    return Track(format=fmt, columns=base | columns, sessions=tuple(sessions),
                 segment_starts=segment_starts)


def test_summary_has_exactly_the_contract_keys():
    assert set(summaries.summarize(run())) == KEYS


def test_summary_is_strict_json():
    track = run(ele=np.full(101, np.nan), hr=np.r_[np.nan, np.full(100, 150.0)])
    json.dumps(summaries.summarize(track), allow_nan=False)


def test_device_totals_win_over_the_points():
    session = Session(sport="running", start_time=T0, elapsed_s=130.0, timer_s=120.0,
                      distance_m=1234.5, ascent_m=12.0, descent_m=10.0, avg_hr=150.0,
                      max_hr=171.0, max_speed_mps=12.5)
    # Points without positions or heart rate: the maxima can only be the device's.
    track = run(fmt="fit", sessions=[session], lat=np.full(101, np.nan),
                lon=np.full(101, np.nan))
    summary = summaries.summarize(track)
    assert summary["distance_m"] == 1234.5 and summary["distance_source"] == "device"
    assert (summary["elapsed_s"], summary["moving_s"]) == (130.0, 120.0)
    assert (summary["ascent_m"], summary["descent_m"]) == (12.0, 10.0)
    assert (summary["avg_hr_bpm"], summary["max_hr_bpm"]) == (150.0, 171)
    assert summary["max_speed_mps"] == 12.5
    assert summary["avg_speed_mps"] == pytest.approx(1234.5 / 120.0, abs=1e-3)


def test_maxima_are_the_points_peaks_where_the_points_have_them():
    # The charts draw the points: their peak and the summary's maximum must be one value.
    session = Session(start_time=T0, elapsed_s=100.0, timer_s=100.0, distance_m=1000.0,
                      avg_hr=140.0, max_hr=171.0, max_speed_mps=30.0)
    hr = np.full(101, 140.0)
    hr[50] = 165.0
    summary = summaries.summarize(run(fmt="fit", sessions=[session], hr=hr))
    assert summary["max_hr_bpm"] == 165
    assert summary["max_speed_mps"] == pytest.approx(ONE_DEGREE_M * 1e-4, rel=1e-3)


def test_distance_from_the_device_column_when_sessions_lack_it():
    track = run(fmt="fit", sessions=[Session(elapsed_s=100.0)], dist=np.arange(101) * 10.0)
    summary = summaries.summarize(track)
    assert (summary["distance_m"], summary["distance_source"]) == (1000.0, "records")


def test_device_column_distance_never_bridges_segments():
    # A chained file restarts the device's distance at 0: the two parts add up.
    dist = np.r_[np.arange(51) * 10.0, np.arange(50) * 10.0]
    summary = summaries.summarize(run(fmt="fit", dist=dist, segment_starts=(0, 51)))
    assert summary["distance_m"] == 500.0 + 490.0


def test_a_dip_in_the_device_distance_adds_nothing():
    dist = np.arange(101) * 10.0
    dist[50] = 0.0  # one bad sample
    assert summaries.record_distance_m(run(fmt="fit", dist=dist)) == 1000.0


def test_gps_distance_when_the_file_has_no_device_distance():
    summary = summaries.summarize(run())
    assert summary["distance_source"] == "gps"
    assert summary["distance_m"] == pytest.approx(ONE_DEGREE_M * 0.01, abs=0.1)


def test_gps_distance_never_bridges_segments():
    track = run(segment_starts=(0, 51))
    track.lat[51:] += 0.5  # the second segment starts 55 km away
    assert summaries.gps_distance_m(track) == pytest.approx(ONE_DEGREE_M * 0.0099, rel=1e-6)


def test_gps_distance_ignores_the_device_totals():
    track = run(fmt="fit", sessions=[Session(distance_m=5.0)], dist=np.arange(101.0))
    assert summaries.gps_distance_m(track) == pytest.approx(ONE_DEGREE_M * 0.01, rel=1e-6)


def test_elapsed_of_one_session_is_the_device_value():
    summary = summaries.summarize(run(fmt="fit", sessions=[Session(start_time=T0,
                                                                   elapsed_s=250.0)]))
    assert summary["elapsed_s"] == 250.0


def test_elapsed_of_several_sessions_is_first_start_to_last_end():
    sessions = [Session(sport="swimming", start_time=T0, elapsed_s=40.0),
                Session(sport="transition", start_time=T0 + 45, elapsed_s=5.0),
                Session(sport="cycling", start_time=T0 + 50, elapsed_s=60.0)]
    summary = summaries.summarize(run(fmt="fit", sessions=sessions))
    assert summary["elapsed_s"] == 110.0
    assert summary["sessions"] == 3


def test_elapsed_without_sessions_is_the_timestamp_span():
    assert summaries.summarize(run())["elapsed_s"] == 100.0


def test_backwards_timestamps_never_give_negative_durations():
    track = run(5)
    track.time[:] = T0 + np.array([30.0, 0.0, 60.0, 40.0, 10.0])
    summary = summaries.summarize(track)
    assert summary["elapsed_s"] == 60.0
    assert 0 <= summary["moving_s"] <= 60.0


def test_moving_time_never_exceeds_elapsed():
    session = Session(start_time=T0, elapsed_s=100.0, timer_s=21680.0)  # a broken device
    summary = summaries.summarize(run(fmt="fit", sessions=[session]))
    assert summary["moving_s"] == 100.0


def test_track_without_times_has_null_durations_and_speeds():
    track = run()
    track.time[:] = np.nan
    summary = summaries.summarize(track)
    assert summary["start_time"] is None
    assert summary["elapsed_s"] is None and summary["moving_s"] is None
    assert summary["avg_speed_mps"] is None and summary["max_speed_mps"] is None
    assert summary["distance_m"] == pytest.approx(ONE_DEGREE_M * 0.01, abs=0.1)


def test_track_without_gps_has_no_bbox_and_uses_the_device_distance():
    track = Track(format="fit", columns={"time": T0 + np.arange(11.0),
                                         "dist": np.arange(11) * 2.0})
    summary = summaries.summarize(track)
    assert summary["bbox"] is None
    assert (summary["distance_m"], summary["distance_source"]) == (20.0, "records")


def test_track_without_time_or_gps_still_summarises():
    track = Track(format="fit", columns={"hr": np.array([120.0, 130.0, 140.0])})
    summary = summaries.summarize(track)
    assert summary["distance_m"] is None and summary["distance_source"] is None
    assert summary["elapsed_s"] is None and summary["bbox"] is None
    assert summary["avg_hr_bpm"] == 130.0 and summary["point_count"] == 3


def test_empty_track_has_no_points():
    with pytest.raises(DeriveError) as caught:
        summaries.summarize(Track(format="gpx"))
    assert caught.value.code == "NoPoints" and caught.value.permanent


def test_points_without_any_value_have_no_points():
    with pytest.raises(DeriveError):
        summaries.summarize(Track(format="fit", columns={"time": np.full(4, np.nan)}))


def test_elevation_gives_ascent_and_descent_when_the_device_has_none():
    ele = np.r_[np.linspace(100, 150, 51), np.linspace(150, 120, 51)[1:]]
    summary = summaries.summarize(run(ele=ele))
    assert summary["ascent_m"] == pytest.approx(50, abs=1)
    assert summary["descent_m"] == pytest.approx(30, abs=1)


def test_no_elevation_gives_null_climbing():
    summary = summaries.summarize(run())
    assert summary["ascent_m"] is None and summary["descent_m"] is None


def test_zero_heart_rate_is_no_reading():
    session = Session(elapsed_s=100.0, avg_hr=0.0, max_hr=0.0)
    summary = summaries.summarize(run(fmt="fit", sessions=[session], hr=np.zeros(101)))
    assert summary["avg_hr_bpm"] is None and summary["max_hr_bpm"] is None


def test_power_and_cadence_from_the_samples():
    power = np.r_[np.zeros(51), np.full(50, 300.0)]
    cadence = np.r_[np.zeros(51), np.full(50, 90.0)]
    summary = summaries.summarize(run(power=power, cadence=cadence))
    assert summary["avg_power_w"] == pytest.approx(300 * 50 / 101, abs=0.1)  # zeros count
    assert summary["max_power_w"] == 300
    assert summary["avg_cadence"] == 90.0  # coasting is not a cadence


def test_start_time_is_utc_iso():
    assert summaries.summarize(run())["start_time"] == "2024-05-01T06:00:00Z"


def test_start_time_comes_from_the_first_session():
    sessions = [Session(start_time=T0 + 7200, elapsed_s=10.0),
                Session(start_time=T0 - 60, elapsed_s=10.0)]
    summary = summaries.summarize(run(fmt="fit", sessions=sessions))
    assert summary["start_time"] == "2024-05-01T05:59:00Z"


def test_fit_time_counted_from_power_on_is_no_start_time():
    track = run(fmt="fit")
    track.time[:] = 631065600 + 17217864 + np.arange(101.0)  # FIT "system time"
    summary = summaries.summarize(track)
    assert summary["start_time"] is None
    assert summary["elapsed_s"] == 100.0


def test_bbox_covers_the_usable_positions():
    assert summaries.summarize(run())["bbox"] == {"min_lat": 46.0, "min_lon": 14.0,
                                                  "max_lat": 46.01, "max_lon": 14.0}


def test_sport_comes_from_the_track():
    track = Track(format="fit", sport="cycling", sub_sport="road",
                  columns={"time": T0 + np.arange(3.0)})
    summary = summaries.summarize(track)
    assert (summary["sport"], summary["sub_sport"]) == ("cycling", "road")


def test_ragged_tracks_give_strict_json_and_no_negative_durations():
    rng = np.random.default_rng(2024)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        full = {"time": T0 + np.sort(rng.normal(0, 100, n)) * rng.choice([1, -1]),
                "lat": rng.uniform(-100, 100, n), "lon": rng.uniform(-200, 200, n),
                "ele": rng.normal(300, 50, n), "dist": rng.uniform(0, 1e4, n),
                "speed": rng.uniform(0, 80, n), "hr": rng.integers(0, 220, n).astype(float),
                "cadence": rng.integers(0, 120, n).astype(float),
                "power": rng.integers(0, 900, n).astype(float)}
        columns = {name: np.where(rng.random(n) < rng.random(), np.nan, values)
                   for name, values in full.items()}
        starts = (0, *sorted(set(rng.integers(1, n + 1, 2).tolist()) - {n})) if n > 1 else (0,)
        track = Track(format=str(rng.choice(["fit", "gpx"])), columns=columns,
                      segment_starts=starts)
        try:
            summary = summaries.summarize(track)
        except DeriveError:
            continue  # nothing usable left after the NaNs: a refusal, not a crash
        json.dumps(summary, allow_nan=False)
        for key in ("elapsed_s", "moving_s", "distance_m", "ascent_m", "descent_m"):
            assert summary[key] is None or summary[key] >= 0, (key, summary)


def test_the_time_zone_is_where_the_activity_began():
    # run() starts at 46 N 14 E (Ljubljana); without positions there is no zone.
    assert summaries.summarize(run())["timezone"] == "Europe/Ljubljana"
    placeless = run(lat=np.full(101, np.nan), lon=np.full(101, np.nan))
    assert summaries.summarize(placeless)["timezone"] is None
