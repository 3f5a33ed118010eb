"""core.geo: great-circle distances, usable positions, path length with glitches left out."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core import geo

#: One degree of latitude along a meridian on a sphere of the mean Earth radius.
ONE_DEGREE_M = 2 * math.pi * 6_371_008.8 / 360


def test_one_degree_of_latitude():
    assert geo.haversine_m(45.0, 7.0, 46.0, 7.0) == pytest.approx(ONE_DEGREE_M)


def test_one_degree_of_longitude_shrinks_with_latitude():
    assert geo.haversine_m(60.0, 7.0, 60.0, 8.0) == pytest.approx(ONE_DEGREE_M / 2, rel=1e-3)


def test_step_distances_are_nan_where_a_position_is_missing():
    steps = geo.step_distances_m(np.array([45.0, np.nan, 45.002]), np.array([7.0, 7.0, 7.0]))
    assert np.isnan(steps).all()


@pytest.mark.parametrize(("lat", "lon", "usable"), [
    (46.0, 14.0, True),
    (-90.0, 180.0, True),  # the edges are real places
    (90.5, 14.0, False),
    (46.0, -180.5, False),
    (np.nan, 14.0, False),
    (0.0, 0.0, False),  # "no fix" written as 0/0
    (0.0, 14.0, True),  # the equator is fine
])
def test_valid_positions(lat, lon, usable):
    assert geo.valid_positions(np.array([lat]), np.array([lon]))[0] == usable


def north(n: int, *, step_deg: float = 1e-4) -> tuple[np.ndarray, np.ndarray]:
    return 46 + np.arange(n) * step_deg, np.full(n, 14.0)


def test_path_length_sums_the_steps():
    lat, lon = north(11)
    length = geo.path_length_m(lat, lon, time=np.arange(11.0))
    assert length == pytest.approx(ONE_DEGREE_M * 1e-3, rel=1e-6)


def test_path_length_removes_a_single_point_spike():
    lat, lon = north(11)
    lat[5] += 0.05  # 5.5 km away for one second
    length = geo.path_length_m(lat, lon, time=np.arange(11.0))
    assert length == pytest.approx(ONE_DEGREE_M * 1e-3, rel=1e-6)


def test_path_length_leaves_out_a_jump_never_undone():
    lat, lon = north(10)
    lat[5:] += 0.05  # the rest of the track 5.5 km further, one second later
    length = geo.path_length_m(lat, lon, time=np.arange(10.0))
    assert length == pytest.approx(ONE_DEGREE_M * 8e-4, rel=1e-6)


def test_path_length_keeps_a_long_step_that_took_long_enough():
    lat, lon = north(3, step_deg=0.05)  # 5.5 km per step, 10 minutes each
    length = geo.path_length_m(lat, lon, time=np.array([0.0, 600.0, 1200.0]))
    assert length == pytest.approx(ONE_DEGREE_M * 0.1, rel=1e-6)


def test_path_length_without_times_keeps_every_step():
    lat, lon = north(11)
    lat[5] += 0.05
    length = geo.path_length_m(lat, lon, time=np.full(11, np.nan))
    assert length > ONE_DEGREE_M * 0.1


def test_path_length_skips_unusable_positions():
    lat, lon = north(5)
    lat[2] = np.nan
    assert geo.path_length_m(lat, lon, time=np.arange(5.0)) == pytest.approx(ONE_DEGREE_M * 4e-4)


def test_bbox_of_usable_positions():
    box = geo.bbox(np.array([46.0, 95.0, 46.5]), np.array([14.2, 14.0, 13.9]))
    assert box == {"min_lat": 46.0, "min_lon": 13.9, "max_lat": 46.5, "max_lon": 14.2}


def test_bbox_without_positions_is_none():
    assert geo.bbox(np.array([np.nan]), np.array([np.nan])) is None


def test_usable_positions_leave_out_a_spike_and_bad_fixes():
    lat = 46 + np.arange(10) * 1e-4
    lat[4] += 0.5  # 55 km off for one second
    lon = np.full(10, 14.0)
    lon[7] = np.nan
    keep = geo.usable_positions(lat, lon, time=np.arange(10.0))
    assert np.flatnonzero(~keep).tolist() == [4, 7]


def test_projection_scales_longitude_by_the_cosine_of_latitude():
    x, y = geo.project_m(np.array([60.0, 60.0, 60.01]), np.array([10.0, 10.02, 10.0]))
    assert x[1] - x[0] == pytest.approx(0.02 * ONE_DEGREE_M * 0.5, rel=0.001)
    assert y[2] - y[0] == pytest.approx(0.01 * ONE_DEGREE_M)


def test_projection_keeps_a_track_across_the_antimeridian_in_one_piece():
    x, _ = geo.project_m(np.array([-17.0, -17.0, -17.0]), np.array([179.99, -179.99, -179.97]))
    assert np.ptp(x) < 5_000
