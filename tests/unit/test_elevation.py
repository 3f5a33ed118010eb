"""core.elevation: ascent and descent from an elevation profile."""

from __future__ import annotations

import numpy as np
import pytest

from core import elevation


def test_a_hill_is_climbed_and_descended():
    profile = np.r_[np.linspace(100, 200, 101), np.linspace(200, 150, 51)[1:]]
    ascent, descent = elevation.climb_m(profile)
    assert ascent == pytest.approx(100, abs=1)
    assert descent == pytest.approx(50, abs=1)


def test_noise_smaller_than_the_hysteresis_is_not_climbing():
    rng = np.random.default_rng(7)
    profile = 300 + rng.uniform(-0.5, 0.5, size=1000)
    assert elevation.climb_m(profile) == (0.0, 0.0)


def test_noise_on_a_climb_does_not_inflate_it():
    rng = np.random.default_rng(7)
    profile = np.linspace(0, 500, 5000) + rng.normal(0, 0.4, size=5000)
    ascent, descent = elevation.climb_m(profile)
    assert ascent == pytest.approx(500, rel=0.02)
    assert descent < 5


def test_steps_of_several_metres_all_count():
    profile = np.array([0, 5, 0, 5, 0, 5, 0], dtype=float).repeat(5)
    ascent, descent = elevation.climb_m(profile)
    assert ascent == pytest.approx(15, abs=0.5)
    assert descent == pytest.approx(15, abs=0.5)


def test_missing_samples_are_skipped():
    profile = np.array([100, np.nan, 110, 120, np.nan, 130], dtype=float)
    assert elevation.climb_m(profile) == pytest.approx((30, 0), abs=4)


def test_no_elevation_is_none():
    assert elevation.climb_m(np.full(5, np.nan)) is None


def test_flat_zero_elevation_is_zero():
    assert elevation.climb_m(np.zeros(10)) == (0.0, 0.0)


def test_single_point_is_zero():
    assert elevation.climb_m(np.array([250.0])) == (0.0, 0.0)
