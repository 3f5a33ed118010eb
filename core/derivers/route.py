"""The `route` deriver: the track's path simplified to a few hundred points, and as the
Google encoded polyline map clients read.

Output (JSON):
    points          [[lat, lon], ...] in degrees, 5 decimals (about a metre)
    segment_starts  index in `points` where each recorded segment begins; draw each
                    segment on its own so that no line crosses a gap in the recording
    polyline        all `points` as one Google encoded polyline (precision 5)
    source_points   usable GPS points the route was drawn from
    tolerance_m     no source point lies further than this from the drawn route
    bbox            {min_lat, min_lon, max_lat, max_lon} of the source points, or null
A track without GPS (indoors) gives no points and an empty polyline, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import geo, polyline, simplify
from core.derivers.base import Deriver
from core.track import Track

#: A few hundred points draw any activity smoothly at the zoom that shows all of it.
MAX_POINTS = 300
#: Finer than GPS noise is detail nobody can see.
TOLERANCE_M = 2.0
#: A file with more segments than this records every pause as a segment; joining them
#: keeps the point budget for the shape (the gaps are a pause apart anyway).
MAX_SEGMENTS = MAX_POINTS // 4


@dataclass(frozen=True, kw_only=True)
class Path:
    """Positions in degrees and equirectangular metres, with where each segment starts."""

    lat: np.ndarray
    lon: np.ndarray
    x: np.ndarray
    y: np.ndarray
    starts: tuple[int, ...]


def source_path(track: Track, *, join_many: bool = True) -> Path:
    """The track's usable positions (no glitch spikes), segment by segment; more than
    MAX_SEGMENTS segments are joined into one unless `join_many` is false (a shared
    track cut around privacy zones: its gaps must stay gaps)."""
    index, starts, count = [], [], 0
    for segment in track.segments():
        keep = geo.usable_positions(track.lat[segment], track.lon[segment],
                                    time=track.time[segment])
        found = np.flatnonzero(keep) + segment.start
        if len(found):
            index.append(found)
            starts.append(count)
            count += len(found)
    if join_many and len(starts) > MAX_SEGMENTS:
        starts = [0]
    index = np.concatenate(index) if index else np.empty(0, dtype=np.int64)
    lat, lon = track.lat[index], track.lon[index]
    x, y = geo.project_m(lat, lon)
    return Path(lat=lat, lon=lon, x=x, y=y, starts=tuple(starts))


def simplified(path: Path, *, max_points: int, tolerance_m: float) -> tuple[Path, float]:
    """(the path simplified by Douglas–Peucker, the largest distance of a point from it)."""
    kept, error = simplify.douglas_peucker(path.x, path.y, starts=path.starts,
                                           max_points=max_points, tolerance=tolerance_m)
    starts = tuple(int(i) for i in np.searchsorted(kept, path.starts))
    return Path(lat=path.lat[kept], lon=path.lon[kept], x=path.x[kept], y=path.y[kept],
                starts=starts), error


def build_route(track: Track, *, join_many: bool = True) -> dict:
    """Track -> the route JSON described in the module docstring (`join_many`:
    source_path's)."""
    source = source_path(track, join_many=join_many)
    route, error = simplified(source, max_points=MAX_POINTS, tolerance_m=TOLERANCE_M)
    lat, lon = np.round(route.lat, 5), np.round(route.lon, 5)
    box = geo.bbox(source.lat, source.lon)
    return {
        "points": np.column_stack([lat, lon]).tolist(),
        "segment_starts": list(route.starts),
        "polyline": polyline.encode(lat, lon),
        "source_points": len(source.lat),
        "tolerance_m": round(error, 1),
        "bbox": None if box is None else {k: round(v, 6) for k, v in box.items()},
    }


ROUTE = Deriver(
    name="route",
    version=1,
    needs=("track",),
    derive=build_route,
)
