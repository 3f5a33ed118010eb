"""Segment shapes: length, climb, box and polyline, from drawn points or a track's stretch."""

from __future__ import annotations

import numpy as np
import pytest

from core.segments import shape
from core.track import Track
from tests import rides


def test_a_straight_kilometre_north_measures_a_kilometre():
    segment = shape.from_points(rides.points([(0, 0), (0, 400), (0, 1000)]))
    # Along a meridian the tests' projection is exact: 1,000 m of latitude.
    assert segment.distance_m == pytest.approx(1000.0, abs=0.01)
    assert segment.ascent_m is None


def test_an_elevation_ramp_climbs_its_height():
    lat, lon = rides.degrees(np.zeros(11), np.arange(11) * 100.0)
    ramp = zip(lat.tolist(), lon.tolist(), np.arange(11) * 5.0, strict=True)
    segment = shape.from_points([list(point) for point in ramp])
    assert segment.ascent_m == pytest.approx(50.0)


def test_bbox_holds_the_extremes():
    segment = shape.from_points([[45.0, 6.0], [45.01, 6.02], [44.99, 6.01]])
    assert segment.bbox == {"min_lat": 44.99, "min_lon": 6.0, "max_lat": 45.01,
                            "max_lon": 6.02}


def test_polyline_is_googles_published_example():
    segment = shape.from_points([[38.5, -120.2], [40.7, -120.95], [43.252, -126.453]])
    assert segment.polyline == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"


def test_a_stretch_of_a_track_leaves_out_points_without_a_fix():
    lat, lon = rides.degrees(np.zeros(6), np.arange(6) * 100.0)
    lat[3] = lon[3] = np.nan
    track = Track(format="gpx", columns={"time": np.arange(6.0), "lat": lat, "lon": lon,
                                         "ele": np.arange(6.0)})
    segment = shape.from_track(track, start_index=1, end_index=4)
    assert segment.lat.tolist() == [lat[1], lat[2], lat[4]]
    assert segment.ele.tolist() == [1.0, 2.0, 4.0]
    # 100 m east and 200 m east at 45 degrees: great circle, a hair under the flat 300 m.
    assert segment.distance_m == pytest.approx(300.0, rel=1e-4)


@pytest.mark.parametrize("points", [
    [[45.0, 6.0]],  # one point is no path
    [[45.0, 6.0], [45.0, 6.0]],  # two points in one place have no length
    [[45.0, 6.0], [float("nan"), 6.0]],  # a point without a position
    [[45.0, 6.0], [45.0]],  # a point without a longitude
])
def test_unusable_points_are_refused(points):
    with pytest.raises(ValueError):
        shape.from_points(points)
