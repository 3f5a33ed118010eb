"""The grid of cells: ids, boxes, and every cell within the margin of a track's path."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.segments import cells, match, shape
from tests import rides


def cell_of(lat: float, lon: float) -> int:
    """The reference: row and column counted by hand, 0.01 degree each."""
    return math.floor((lat + 90) * 100) * 36_000 + math.floor((lon + 180) * 100) % 36_000


@pytest.mark.parametrize(("lat", "lon", "expected"), [
    (-89.995, -179.995, 0),  # the first cell
    (0.005, 0.005, 9000 * 36_000 + 18_000),  # just north-east of 0/0
    (45.123, 6.789, 13_512 * 36_000 + 18_678),
    (89.999, 179.999, 18_000 * 36_000 - 1),  # the last cell, still below 2**31
])
def test_cell_ids(lat, lon, expected):
    assert cells.cell_ids(np.array([lat]), np.array([lon])).tolist() == [expected]
    assert cell_of(lat, lon) == expected


def test_a_box_takes_every_cell_it_overlaps():
    box = {"min_lat": 45.005, "min_lon": 6.005, "max_lat": 45.025, "max_lon": 6.015}
    rows, columns = (13_500, 13_501, 13_502), (18_600, 18_601)
    assert cells.cells_for_bbox(box) == sorted(r * 36_000 + c for r in rows for c in columns)


def reference_cells(path, *, margin_m: float) -> set[int]:
    """Cells of points every metre along the path and of points 16 ways round each at
    the margin (and just inside it)."""
    s = np.arange(0.0, rides.length(path) + 1.0, 1.0)
    xy = rides.at(path, s)
    angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
    found = set()
    for reach in (0.0, margin_m - 0.01):
        for angle in angles if reach else [0.0]:
            lat, lon = rides.degrees(xy[:, 0] + reach * np.cos(angle),
                                     xy[:, 1] + reach * np.sin(angle))
            found |= {cell_of(a, b) for a, b in zip(lat.tolist(), lon.tolist(), strict=True)}
    return found


def test_a_tracks_cells_cover_its_path_and_margin():
    # A few kilometres with bends, and one long step (a 2 km recording gap).
    path = [(0, 0), (1500, 700), (1600, 2400), (-400, 3000), (-500, 1000)]
    track = rides.ride(path, distance_at=rides.constant(10.0),
                       keep=lambda t: (t < 300) | (t > 500))
    # The gap's chord, not the path ridden, is what the track shows.
    lat, lon = track.lat, track.lon
    shown = np.column_stack([(lon - rides.LON0) * rides.M_PER_DEG_LON,
                             (lat - rides.LAT0) * rides.M_PER_DEG_LAT])
    found = set(cells.cells_for_track(track, margin_m=25.0))
    expected = reference_cells(shown, margin_m=25.0)
    assert expected <= found
    # Nothing far off: at most the neighbours of the cells the margin reaches.
    assert len(found) <= 2 * len(expected)


def test_a_long_straight_ride_stays_within_the_documented_bound():
    # 100 km north-east at 45 degrees, one point every 10 s at 10 m/s.
    path = [(0, 0), (100_000 / math.sqrt(2), 100_000 / math.sqrt(2))]
    track = rides.ride(path, distance_at=rides.constant(10.0), every_s=10.0)
    width, height = 0.01 * rides.M_PER_DEG_LON, 0.01 * rides.M_PER_DEG_LAT
    travel = 100_000 / math.sqrt(2)
    found = cells.cells_for_track(track, margin_m=25.0)
    assert len(found) <= 4 * (1 + travel / width + travel / height)
    assert len(reference_cells(path, margin_m=25.0)) <= len(found) <= 250


def test_cells_across_the_antimeridian_stay_few():
    lat = np.array([-17.0, -17.0, -17.0])
    lon = np.array([179.985, -179.995, -179.985])
    found = cells.cells_for_path(lat, lon, margin_m=25.0)
    columns = {c % 36_000 for c in found}
    assert {35_998, 35_999, 0, 1} <= columns and len(found) <= 12


def test_a_matched_segments_cell_is_among_the_tracks():
    # A sparse recording, a point every 2 km (x = 50, 2050): the segment's start lies
    # beside a step, in a cell (x from 786 m to 1,572 m) that holds no point.
    segment = shape.from_points(rides.points([(1003, 5), (1500, 5)]))
    track = rides.ride([(0, 0), (5000, 0)], distance_at=rides.constant(10.0), every_s=200.0,
                       first_s=5.0)
    points = set(cells.cell_ids(track.lat, track.lon).tolist())
    assert cells.start_cell(segment) not in points
    assert len(match.match(track, segment)) == 1
    assert cells.start_cell(segment) in cells.cells_for_track(track)
