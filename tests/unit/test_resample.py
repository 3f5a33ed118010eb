"""core.resample: regular axes, interpolation that never bridges gaps, bin means."""

from __future__ import annotations

import numpy as np

from core import resample


def test_interpolation_inside_a_segment():
    x, values = np.array([0.0, 10.0]), np.array([100.0, 200.0])
    got = resample.interpolate(x, values, at=np.array([0.0, 2.5, 10.0]),
                               segment=np.zeros(2, dtype=int))
    assert got.tolist() == [100.0, 125.0, 200.0]


def test_interpolation_never_bridges_two_segments():
    x = np.array([0.0, 1.0, 500.0, 501.0, 502.0])
    values = np.arange(5.0)
    segment = np.array([0, 0, 1, 1, 1])
    got = resample.interpolate(x, values, at=np.array([0.5, 250.0, 501.5, 502.0, 600.0]),
                               segment=segment)
    assert got[0] == 0.5 and np.isnan(got[1]) and got[2] == 3.5 and got[3] == 4.0
    assert np.isnan(got[4])  # beyond the end


def test_the_step_is_never_finer_than_the_recording():
    assert resample.nice_step(100.0, max_count=2000, finest=4.2) == 5.0
    assert resample.spacing(np.array([0.0, 5.0, 10.0, 10.0, 15.0, np.nan])) == 5.0


def test_interpolation_skips_missing_readings():
    got = resample.interpolate(np.arange(3.0), np.array([1.0, np.nan, 3.0]),
                               at=np.array([1.0]), segment=np.zeros(3, dtype=int))
    assert got.tolist() == [2.0]


def test_bin_means_weighted_and_empty():
    edges = np.array([0.0, 10.0, 20.0, 30.0])
    got = resample.bin_means(np.array([1.0, 2.0, 25.0]), np.array([2.0, 4.0, 7.0]),
                             edges=edges, weights=np.array([3.0, 1.0, 1.0]))
    assert got[0] == 2.5 and np.isnan(got[1]) and got[2] == 7.0


def test_grid_ends_at_the_span():
    assert resample.grid(25.0, 10.0).tolist() == [0.0, 10.0, 20.0, 25.0]
    assert resample.grid(20.0, 10.0).tolist() == [0.0, 10.0, 20.0]


def test_lists_are_rounded_with_nulls():
    assert resample.to_list(np.array([1.234, np.nan]), digits=1) == [1.2, None]
    assert resample.to_list(np.array([149.6, np.nan]), digits=0) == [150, None]
