"""Power load: NP, IF, TSS and the mean-maximal curve against hand-worked values and
against slow references (a per-window loop for NP, every window summed for the curve)
on made-up rides and on the corpus files with power."""

from __future__ import annotations

import numpy as np
import pytest

from core.track import Track
from core.training import power, seconds
from tests import training
from tests.unit.derivers.tracks import T0


def ride(watts, *, time=None) -> Track:
    watts = np.asarray(watts, dtype=float)
    time = T0 + np.arange(len(watts), dtype=float) if time is None else np.asarray(time)
    return Track(format="fit", sport="cycling", columns={"time": time, "power": watts})


def slow_np(values: list[float]) -> float | None:
    if len(values) < 30:
        return None
    fourth = [(sum(values[i - 29:i + 1]) / 30) ** 4 for i in range(29, len(values))]
    return (sum(fourth) / len(fourth)) ** 0.25


def window_sums(values: np.ndarray, d: int) -> np.ndarray:
    """Every window of d seconds summed on its own (O(n·d), no running sum)."""
    return np.lib.stride_tricks.sliding_window_view(values, d).sum(axis=1)


def test_an_hour_at_ftp_is_100():
    out = power.ride(ride(np.full(3601, 250.0)), ftp_w=250)  # 3601 points: 3600 s
    assert out.duration_s == 3600
    assert out.normalized_w == pytest.approx(250)
    assert out.intensity == pytest.approx(1.0)
    assert out.tss == pytest.approx(100.0)


def test_hand_worked_tss_and_if():
    # An hour at 300 W on an FTP of 240: IF 1.25, TSS = 1 h × 1.25² × 100 = 156.25.
    out = power.ride(ride(np.full(3601, 300.0)), ftp_w=240)
    assert out.intensity == pytest.approx(1.25)
    assert out.tss == pytest.approx(156.25)
    # Half an hour at 300 W on 200: s × NP × IF / (FTP × 3600) × 100 = 1800·300·1.5/720000·100.
    assert power.tss(1800, 300.0, 200.0) == pytest.approx(112.5)


def test_np_of_alternating_blocks():
    # 60 s at 400 W, 60 s at 100 W, repeated: each 30 s window is inside one block or
    # ramps linearly across a boundary, so the 4th-power mean is worked out per block pair.
    values = ([400.0] * 60 + [100.0] * 60) * 20
    expected = slow_np(values)
    assert power.normalized_power(np.array(values)) == pytest.approx(expected, rel=1e-12)
    assert expected > np.mean(values)  # NP rewards the surges


def test_without_ftp_there_is_np_but_no_tss():
    out = power.ride(ride(np.full(601, 200.0)), ftp_w=None)
    assert out.normalized_w == pytest.approx(200)
    assert out.intensity is None and out.tss is None


def test_a_long_pause_is_cut_not_zero_filled():
    time = T0 + np.arange(3601, dtype=float)
    time[1800:] += 2 * 3600  # two hours at a café, no points
    out = power.ride(ride(np.full(3601, 200.0), time=time), ftp_w=200)
    assert out.duration_s == 3599  # the step across the pause counts no time at all
    assert out.normalized_w == pytest.approx(200)
    assert out.tss == pytest.approx(3599 / 3600 * 100)


def test_a_short_dropout_is_held_a_long_gap_cut():
    time = T0 + np.arange(1000, dtype=float)
    time[500:] += 7  # an 8 s step: a dropout, bridged with the reading before it
    assert len(power.watts(ride(np.full(1000, 200.0), time=time)).values) == 999 + 7
    time[500:] += 4  # an 11 s step: over PAUSE_S on a 1 s recording, a pause
    assert seconds.PAUSE_S < 11
    assert len(power.watts(ride(np.full(1000, 200.0), time=time)).values) == 998


def test_a_slow_recorder_s_steps_are_not_pauses():
    # Points every 4 s: 5 × 4 = 20 s is the pause limit, a 16 s step is recording.
    time = T0 + np.arange(0, 4000, 4, dtype=float)
    time[500:] += 12
    grid = power.watts(ride(np.full(len(time), 180.0), time=time))
    assert len(grid.values) == int(time[-1] - time[0])


def test_missing_readings_count_zero_and_the_ends_are_trimmed():
    watts = np.full(3000, 300.0)
    watts[:600] = np.nan  # the swim before the bike leg: no part of the ride
    watts[-400:] = np.nan
    watts[1000:1100] = np.nan  # coasting, the meter asleep: 0 W
    grid = power.watts(ride(watts))
    assert len(grid.values) == 3000 - 600 - 400 - 1
    assert np.count_nonzero(grid.values == 0) == 100
    best = power.curve(grid, (60,))[0]
    assert best.start_offset_s == 600.0  # offsets count from the track's first point


def test_curve_start_after_a_pause_is_in_elapsed_time():
    watts = np.r_[np.full(1000, 150.0), np.full(1000, 150.0)]
    watts[1500:1560] = 500.0  # the best minute, after the pause
    time = T0 + np.arange(2000, dtype=float)
    time[1000:] += 3600
    best = {b.duration_s: b for b in power.curve(power.watts(ride(watts, time=time)))}
    assert best[60].watts == 500.0
    assert best[60].start_offset_s == 1500 + 3600


@pytest.mark.parametrize("seed", range(4))
def test_curve_matches_every_window_summed(seed):
    rng = np.random.default_rng(seed)
    watts = rng.integers(0, 700, 5000).astype(float)
    watts[rng.random(5000) < 0.02] = np.nan
    time = T0 + np.cumsum(rng.choice([1.0, 1.0, 1.0, 2.0, 3.0, 60.0], 5000))
    grid = power.watts(ride(watts, time=time))
    curve = power.curve(grid)
    assert [b.duration_s for b in curve] == [d for d in power.CURVE_DURATIONS_S
                                              if d <= len(grid.values)]
    for best in curve:
        sums = window_sums(grid.values, best.duration_s)
        start = int(np.argmax(sums))
        assert best.watts == sums[start] / best.duration_s  # integer watts: exact sums
        assert best.start_offset_s == grid.elapsed_at(start)


def test_very_short_and_empty_rides():
    assert power.ride(ride(np.full(30, 200.0)), ftp_w=200) is None  # 29 s: no NP
    short = power.watts(ride(np.full(12, 200.0)))
    assert [b.duration_s for b in power.curve(short)] == [1, 2, 5, 10]
    assert power.ride(ride([]), ftp_w=200) is None
    assert power.ride(ride(np.full(100, np.nan)), ftp_w=200) is None
    no_time = ride(np.full(100, 200.0), time=np.full(100, np.nan))
    assert power.ride(no_time, ftp_w=200) is None
    assert power.curve(power.watts(no_time)) == []


def test_a_recording_over_a_week_gets_no_grid():
    time = T0 + np.arange(0, 8 * 86400, 60, dtype=float)  # a logger, a point a minute
    assert power.watts(ride(np.full(len(time), 100.0), time=time)) is None


@pytest.mark.corpus
def test_corpus_grid_np_and_curve_match_the_slow_references():
    files = {name: track for name, track in training.with_power().items()
             if training.has_whole_seconds(track)}
    assert len(files) >= 10
    for name, track in files.items():
        values, elapsed = training.slow_grid(track, "power", trim=True)
        values = [0.0 if v != v else v for v in values]
        grid = power.watts(track)
        assert grid.values.tolist() == values, name
        ride_out = power.ride(track, ftp_w=250)
        expected = slow_np(values)
        assert (ride_out.normalized_w if ride_out else None) == pytest.approx(expected), name
        if ride_out:
            assert ride_out.tss == pytest.approx(
                len(values) / 3600 * (expected / 250) ** 2 * 100), name
        array = np.array(values)
        assert np.all(array == np.round(array))  # whole watts: window sums are exact
        for best in power.curve(grid):
            sums = window_sums(array, best.duration_s)
            start = int(np.argmax(sums))
            assert best.watts == sums[start] / best.duration_s, (name, best)
            assert best.start_offset_s == elapsed[start], (name, best)
