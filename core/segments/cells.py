"""A fixed grid of cells over the Earth, so that any database (SQLite too) finds the
candidate segments of a track with plain rows and an IN list: (cell, segment_id).

Cells are CELL_DEG (0.01 degree) on a side: 1.11 km north-south, 1.11 km x cos(latitude)
east-west (0.79 km at 45 degrees, 0.56 km at 60). A cell's id is row * COLUMNS + column,
counted from the south pole and the antimeridian: below 2**31, an ordinary integer.
About a kilometre is the length of the shortest segments people draw: smaller cells
multiply a track's cells, larger ones the candidates a track brings up in a city.

A segment is stored under one cell, its start's (`start_cell`): an effort must pass
within the tolerance of the start, so that cell is among the cells of the track's path
grown by the tolerance (`cells_for_track`), whatever the segment's length. Candidates
found so are then checked by match.match, whose bounding-box reject is cheap.

How many cells: a path that travels Lx metres east-west and Ly north-south, grown by a
margin under a cell's size, touches at most 4 x (1 + Lx / w + Ly / h) cells (w, h the
cell's width and height; the grown path's cells are those of its four corners' paths),
and in practice about (1 + Lx / w + Ly / h) plus the neighbours of the lines it runs
along: a straight 100 km ride north-east at 45 degrees, some 150 to 250 cells. A
bounding box (`cells_for_bbox`, for a map view) takes (dlat / 0.01 + 1) x
(dlon / 0.01 + 1) cells: 10,000 for a box 100 km across, so long paths are never
indexed by their boxes.
"""

from __future__ import annotations

import numpy as np

from core import geo, motion
from core.segments.shape import Segment
from core.track import Track

CELL_DEG = 0.01
ROWS = 18_000  # 180 / CELL_DEG
COLUMNS = 36_000  # 360 / CELL_DEG
#: A path's steps are cut to at most this (degrees, each way) before its cells are
#: taken; every cell box is grown by half of it, so the cut steps' lines are covered.
STEP_DEG = CELL_DEG / 4
_M_PER_DEG = np.radians(1.0) * geo.EARTH_RADIUS_M


def cell_ids(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """The id of the cell holding each position (degrees)."""
    rows = np.clip(np.floor((np.asarray(lat) + 90.0) / CELL_DEG), 0, ROWS - 1)
    columns = np.floor((np.asarray(lon) + 180.0) / CELL_DEG) % COLUMNS
    return (rows * COLUMNS + columns).astype(np.int64)


def start_cell(segment: Segment) -> int:
    """The one cell a segment is stored under: its start's."""
    return int(cell_ids(segment.lat[:1], segment.lon[:1])[0])


def cells_for_bbox(bbox: dict[str, float]) -> list[int]:
    """Every cell a bounding box (geo.bbox's keys) overlaps, sorted."""
    low = cell_ids(np.array([bbox["min_lat"]]), np.array([bbox["min_lon"]]))[0]
    high = cell_ids(np.array([bbox["max_lat"]]), np.array([bbox["max_lon"]]))[0]
    rows = np.arange(low // COLUMNS, high // COLUMNS + 1)
    columns = np.arange(low % COLUMNS, high % COLUMNS + 1)
    return sorted((rows[:, None] * COLUMNS + columns[None, :]).ravel().tolist())


def cells_for_track(track: Track, *, margin_m: float = 25.0) -> list[int]:
    """Every cell within `margin_m` of the track's path (usable positions, the lines
    between them included), sorted."""
    clock = motion.monotonic(track.time)
    keep = geo.usable_positions(track.lat, track.lon, time=clock)
    return cells_for_path(track.lat[keep], track.lon[keep], margin_m=margin_m)


def cells_for_path(lat: np.ndarray, lon: np.ndarray, *, margin_m: float) -> list[int]:
    """Every cell within `margin_m` of the polyline through the positions, sorted.

    1. Cut each step into pieces of at most STEP_DEG each way (a gap's chord counts).
    2. Around each point, a box of the margin plus half a piece each way: the boxes
       cover every point within the margin of the path.
    3. Take each box's rows and columns (usually one or two of each).
    """
    lat, lon = _cut(np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64))
    if len(lat) == 0:
        return []
    half_lat = margin_m / _M_PER_DEG + STEP_DEG / 2
    cos_lat = np.maximum(np.cos(np.radians(np.minimum(np.abs(lat) + half_lat, 90.0))), 1e-3)
    half_lon = np.minimum(margin_m / (_M_PER_DEG * cos_lat) + STEP_DEG / 2, 180.0)
    low = cell_ids(lat - half_lat, lon - half_lon)
    high = cell_ids(lat + half_lat, lon + half_lon)
    row_low, row_high = low // COLUMNS, high // COLUMNS
    column_low = low % COLUMNS
    # Columns wrap round the antimeridian: count the span forward, modulo the circle.
    column_span = (high % COLUMNS - column_low) % COLUMNS
    found: set[int] = set()
    for dr in range(int(np.max(row_high - row_low)) + 1):
        rows = np.minimum(row_low + dr, row_high)
        for dc in range(int(np.max(column_span)) + 1):
            columns = (column_low + np.minimum(dc, column_span)) % COLUMNS
            found.update(np.unique(rows * COLUMNS + columns).tolist())
    return sorted(found)


def _cut(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The polyline with every step longer than STEP_DEG (either way) cut evenly;
    longitudes unwrapped, so that a step across the antimeridian stays short."""
    if len(lat) < 2:
        return lat, lon
    lon = np.degrees(np.unwrap(np.radians(lon)))
    pieces = np.maximum(np.ceil(np.maximum(np.abs(np.diff(lat)), np.abs(np.diff(lon)))
                                / STEP_DEG), 1).astype(np.int64)
    step = np.repeat(np.arange(len(pieces)), pieces)
    within = np.arange(len(step)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    fraction = within / pieces[step]
    lat_cut = lat[step] + fraction * (lat[step + 1] - lat[step])
    lon_cut = lon[step] + fraction * (lon[step + 1] - lon[step])
    return np.append(lat_cut, lat[-1]), np.append(lon_cut, lon[-1])
