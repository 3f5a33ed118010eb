"""core.motion: moving time and top speed from the points alone."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from core import motion
from core.track import Track

T0 = 1714543200.0
DEG_PER_M = 1 / 111_195.0  # degrees of latitude per metre, near enough


def walk(speeds_mps, *, step_s: float = 1.0, **columns) -> Track:
    """A track heading north whose step i is covered at speeds_mps[i]."""
    speeds = np.asarray(speeds_mps, dtype=float)
    metres = np.r_[0.0, np.cumsum(speeds * step_s)]
    n = len(metres)
    base = {"time": T0 + np.arange(n) * step_s, "lat": 46 + metres * DEG_PER_M,
            "lon": np.full(n, 14.0)}
    return Track(format="gpx", columns=base | columns)


def test_moving_time_counts_steps_at_walking_pace():
    assert motion.moving_time_s(walk([1.4] * 600)) == pytest.approx(600)


def test_standing_still_is_not_moving():
    track = walk([3.0] * 300 + [0.0] * 200 + [3.0] * 300)
    assert motion.moving_time_s(track) == pytest.approx(600, abs=15)


def test_a_long_gap_is_not_moving():
    track = walk([3.0] * 10)
    track.time[6:] += 1800  # the watch paused for half an hour after point 5
    assert motion.moving_time_s(track) == pytest.approx(9, abs=1)


def test_backwards_timestamps_add_no_time():
    track = walk([2.0] * 6)
    track.time[:] = T0 + np.array([0, 2, 1, 3, 4, 6, 5])
    assert motion.moving_time_s(track) == pytest.approx(6)


def test_device_speed_decides_over_gps():
    speed = np.zeros(11)
    speed[0] = 0.1  # the device says "stopped" while GPS moves 3 m/s
    assert motion.moving_time_s(walk([3.0] * 10, speed=speed)) == 0


def test_constant_zero_device_speed_says_nothing():
    track = walk([3.0] * 10, speed=np.zeros(11))
    assert motion.moving_time_s(track) == pytest.approx(10)


def test_no_timestamps_no_moving_time():
    track = walk([3.0] * 10)
    track.time[:] = np.nan
    assert motion.moving_time_s(track) is None


def test_segments_are_not_bridged():
    track = walk([3.0] * 9)
    track = Track(format="gpx", columns=dict(track.columns), segment_starts=(0, 5))
    track.time[5:] += 30  # 30 s between the segments would otherwise count as a step
    assert motion.moving_time_s(track) == pytest.approx(8)


def test_max_speed_from_gps_is_the_fastest_sustained():
    track = walk([4.0] * 60 + [8.0] * 30 + [4.0] * 60)
    assert motion.max_speed_mps(track) == pytest.approx(8.0, rel=0.02)


def test_max_speed_ignores_a_single_sample_spike():
    speeds = np.full(100, 5.0)
    speeds[50] = 30.0
    track = walk([5.0] * 99, speed=speeds)
    assert motion.max_speed_mps(track) == pytest.approx(5.0)


def test_max_speed_without_any_speed_is_none():
    track = Track(format="fit", columns={"hr": np.full(5, 120.0)})
    assert motion.max_speed_mps(track) is None


def test_the_clock_never_runs_backwards():
    time = T0 + np.array([0.0, 10.0, 5.0, 20.0])
    assert motion.monotonic(time).tolist() == [T0, T0 + 10, T0 + 10, T0 + 20]


def test_recording_time_cuts_out_long_pauses_only():
    track = walk([1.0] * 5)
    track.time[:] = T0 + np.array([np.nan, 0.0, 60.0, 3660.0, 3670.0, 3680.0])
    assert motion.recording_s(track)[1:].tolist() == [0.0, 60.0, 60.0, 70.0, 80.0]
    assert np.isnan(motion.recording_s(track)[0])


def test_a_step_across_a_pause_has_no_speed():
    track = walk([1.0] * 4)
    track.time[3:] += motion.GAP_S + 1
    first, dt, speed = motion.moving_steps(track)
    assert first.tolist() == [0, 1, 2, 3] and dt[2] == motion.GAP_S + 2
    assert np.isnan(speed[2]) and speed[[0, 1, 3]] == pytest.approx(1.0, abs=0.01)


def test_a_sparse_logger_is_not_pausing_between_its_points():
    track = walk([1.0] * 10, step_s=300.0)  # a point every five minutes
    assert motion.recording_s(track)[-1] == 3000.0


@pytest.mark.parametrize("side", ["left", "right"])
def test_sorted_search_is_numpys_searchsorted_index_for_index(side):
    rng = np.random.default_rng(3)
    evenly = T0 + np.arange(3600.0)
    uneven = T0 + np.cumsum(rng.choice([0.0, 1.0, 1.0, 2.0, 7.5, 400.0], 3600))
    for values in (evenly, uneven, T0 + np.arange(3600.0) * 0.25, np.array([T0, T0]),
                   np.array([T0]), np.array([T0, T0 + 1.0])):
        middle = (values[:-1] + values[1:]) / 2 if len(values) > 1 else values
        for needles in (middle - 5, middle + 5, middle, values,
                        np.sort(rng.uniform(values[0] - 50, values[-1] + 50, 500))):
            assert motion.sorted_search(values, needles, side).tolist() == \
                np.searchsorted(values, needles, side).tolist()


def test_the_rolling_median_of_five_is_numpys_median_for_every_ordering():
    # Every ordering of five values, ties included (5^5 rows of the values 0..4).
    rows = np.array(list(itertools.product(range(5), repeat=5)), dtype=float)
    assert motion._median_of_5(*rows.T).tolist() == np.median(rows, axis=1).tolist()
    values = np.random.default_rng(4).normal(5, 2, 200)
    windows = np.lib.stride_tricks.sliding_window_view(values, 5)
    expected = np.median(windows, axis=1)[np.clip(np.arange(200) - 2, 0, 195)]
    assert motion._rolling_median(values, 5).tolist() == expected.tolist()
