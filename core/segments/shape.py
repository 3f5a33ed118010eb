"""Segment: the path to be matched, from drawn points or from a stretch of an activity."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core import elevation, geo, polyline
from core.track import Track


@dataclass(frozen=True, kw_only=True, eq=False)
class Segment:
    """A path of at least two positions, in order, with what a segment page shows of it."""

    lat: np.ndarray
    lon: np.ndarray
    ele: np.ndarray  # metres, NaN where unknown
    distance_m: float  # along the points, great circle step by step
    ascent_m: float | None  # None without elevation
    bbox: dict[str, float]  # geo.bbox's keys: min_lat, min_lon, max_lat, max_lon
    polyline: str  # Google's encoded polyline of the points


def from_points(points: Sequence[Sequence[float]]) -> Segment:
    """[[lat, lon] or [lat, lon, ele], ...] -> Segment; ValueError when unusable."""
    rows = [list(p) for p in points]
    if any(len(row) not in (2, 3) for row in rows):
        raise ValueError("a segment point is [lat, lon] or [lat, lon, elevation]")
    lat = np.array([row[0] for row in rows], dtype=np.float64)
    lon = np.array([row[1] for row in rows], dtype=np.float64)
    ele = np.array([row[2] if len(row) == 3 and row[2] is not None else np.nan
                    for row in rows], dtype=np.float64)
    if not geo.valid_positions(lat, lon).all():
        raise ValueError("a segment point has no valid position")
    return _shape(lat, lon, ele)


def from_track(track: Track, *, start_index: int, end_index: int) -> Segment:
    """The track's points start_index..end_index (inclusive) -> Segment.

    Points without a usable position (no fix, a GPS spike: geo.usable_positions) are
    left out, so a glitch in the chosen stretch does not become part of the road.
    """
    if not 0 <= start_index < end_index < track.n:
        raise ValueError("a segment needs 0 <= start_index < end_index < the track's length")
    stretch = slice(start_index, end_index + 1)
    lat, lon = track.lat[stretch], track.lon[stretch]
    keep = geo.usable_positions(lat, lon, time=track.time[stretch])
    return _shape(lat[keep], lon[keep], track.ele[stretch][keep])


def _shape(lat: np.ndarray, lon: np.ndarray, ele: np.ndarray) -> Segment:
    if len(lat) < 2:
        raise ValueError("a segment needs at least two positions")
    distance_m = float(np.sum(geo.step_distances_m(lat, lon)))
    if distance_m <= 0:
        raise ValueError("a segment needs some length")
    climb = elevation.climb_m(ele)
    return Segment(lat=lat, lon=lon, ele=ele, distance_m=distance_m,
                   ascent_m=climb[0] if climb else None, bbox=geo.bbox(lat, lon),
                   polyline=polyline.encode(lat, lon))
