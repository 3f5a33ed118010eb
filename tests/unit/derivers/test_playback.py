"""The `playback` deriver: bounded, monotonic samples; gaps stay gaps; no-time tracks too."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import resample
from core.derivers import playback
from core.derivers.playback import PLAYBACK
from core.track import Track
from tests.unit.derivers.tracks import T0, northward, without_gps


def test_a_day_long_recording_stays_within_the_sample_budget():
    out = PLAYBACK.derive(northward(86_400, speed_mps=5.0))
    assert out["axis"] == "time"
    assert out["count"] == len(out["elapsed_s"]) <= playback.MAX_SAMPLES
    assert np.all(np.diff(out["elapsed_s"]) > 0)
    assert out["elapsed_s"][0] == 0 and out["elapsed_s"][-1] == 86_399
    assert all(len(out[k]) == out["count"] for k in ("lat", "lon", "distance_m", "speed_mps"))


def test_a_short_activity_is_sampled_every_second():
    track = northward(101)
    out = PLAYBACK.derive(track)
    assert (out["step"], out["count"]) == (1.0, 101)
    assert out["lat"] == [round(v, 5) for v in track.lat.tolist()]


@pytest.mark.parametrize("span_s", [1, 99, 3998, 3999, 7200, 10 * 86_400])
def test_the_step_always_fits_the_budget(span_s):
    step = resample.nice_step(span_s, max_count=2000)
    assert len(resample.grid(span_s, step)) <= 2000


def test_samples_between_points_are_interpolated():
    track = Track(format="gpx", columns={"time": T0 + np.array([0.0, 1.0, 11.0]),
                                         "lat": np.array([46.0, 46.0, 46.001]),
                                         "lon": np.array([14.0, 14.0, 14.0]),
                                         "hr": np.array([100.0, 100.0, 120.0])})
    out = PLAYBACK.derive(track)
    assert out["elapsed_s"] == [0.0, 10.0, 11.0]  # never finer than the points' 5.5 s
    assert out["hr_bpm"][1] == 118 and out["lat"][1] == 46.0009


def test_channels_the_track_lacks_are_left_out():
    out = PLAYBACK.derive(northward(60, power=np.full(60, 200.0)))
    assert out["power_w"][10] == 200
    assert not {"hr_bpm", "cadence", "ele_m"} & set(out)


def test_speed_comes_from_the_gps_when_the_device_gives_none():
    out = PLAYBACK.derive(northward(300, speed_mps=4.0))
    assert np.nanmedian(np.array(out["speed_mps"], dtype=float)) == pytest.approx(4.0, abs=0.01)
    assert out["distance_m"][-1] == pytest.approx(299 * 4.0, rel=1e-3)


def test_a_long_pause_is_cut_out_of_the_replay():
    track = northward(120)
    track.time[60:] += 600  # ten minutes stopped without recording
    out = PLAYBACK.derive(track)
    assert out["count"] == 119 and None not in out["lat"]  # 119 s recorded, every second
    elapsed = out["elapsed_s"]
    assert np.diff(elapsed).max() > 590 and elapsed[-1] == 719.0


def test_a_multi_day_tour_replays_its_days_not_its_nights():
    track = northward(7200, speed_mps=5.0)
    track.time[3600:] += 16 * 3600  # the night
    out = PLAYBACK.derive(track)
    assert out["step"] == 5.0 and None not in out["lat"]
    assert out["elapsed_s"][-1] == 7199 + 16 * 3600
    assert np.all(np.diff(out["elapsed_s"]) > 0)


def test_a_sparse_logger_still_replays_in_time():
    track = northward(50)
    track.time[:] = T0 + np.arange(50) * 300.0  # a point every five minutes
    out = PLAYBACK.derive(track)
    assert out["axis"] == "time" and out["step"] == 300.0 and out["count"] == 50
    assert None not in out["lat"]


def test_two_segments_are_never_bridged():
    track = northward(100, segment_starts=(0, 50))
    track.time[50:] += 30  # a short gap, but the file says the recording restarted
    track.lon[50:] += 0.05
    out = PLAYBACK.derive(track)
    between = [i for i, t in enumerate(out["elapsed_s"]) if 49 < t < 80]
    assert between and all(out["lon"][i] is None for i in between)


def test_backwards_timestamps_still_give_increasing_samples():
    track = northward(50)
    track.time[20] = T0 + 5  # a point stamped 15 s early
    out = PLAYBACK.derive(track)
    assert np.all(np.diff(out["elapsed_s"]) > 0)


def test_without_timestamps_the_axis_is_distance():
    track = northward(500)
    track.time[:] = np.nan
    out = PLAYBACK.derive(track)
    assert out["axis"] == "distance" and "elapsed_s" not in out
    assert out["count"] <= playback.MAX_SAMPLES
    assert np.all(np.diff(out["distance_m"]) > 0)
    assert "speed_mps" not in out


def test_without_time_or_distance_the_axis_is_the_point_index():
    n = 5001
    track = Track(format="fit", columns={"hr": np.arange(n, dtype=float)})
    out = PLAYBACK.derive(track)
    assert out["axis"] == "index" and out["count"] <= playback.MAX_SAMPLES
    assert out["hr_bpm"][0] == 0 and out["hr_bpm"][-1] == n - 1
    assert np.all(np.diff(out["hr_bpm"]) > 0)


def test_an_indoor_ride_has_no_position_but_distance_and_speed():
    out = PLAYBACK.derive(without_gps())
    assert "lat" not in out and out["distance_m"][-1] == 480.0
    assert out["speed_mps"][30] == pytest.approx(8.0)


def test_an_empty_track_gives_no_samples():
    out = PLAYBACK.derive(Track(format="gpx"))
    assert out["count"] == 0


def test_playback_is_strict_json():
    track = northward(200, hr=np.r_[np.full(20, np.nan), np.full(180, 150.0)])
    out = json.loads(PLAYBACK.codec.dumps(PLAYBACK.derive(track)))
    assert out["hr_bpm"][0] is None and out["hr_bpm"][50] == 150
