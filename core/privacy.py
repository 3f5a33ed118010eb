"""What others may see of a track: the points inside an owner's privacy zones and trims
taken out, whole stretches at a time, so that no line is ever drawn across a hidden place.

A point is hidden when it lies within a zone (a circle: centre and radius in metres), or
within the first `trim_start_m` or the last `trim_end_m` metres along the track. A point
without a position takes the fate of the positioned points around it (hidden if either
is), so that it cannot join two visible stretches. Where points are removed the track is
cut: what follows starts a new segment, and every drawer (route, preview, playback) draws
each segment on its own. Two visible points whose straight step passes through a zone are
cut apart too (sparse recordings). The owner's own outputs never go through here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from core import distance
from core.geo import EARTH_RADIUS_M
from core.track import Track

#: Limits the API enforces on a zone's radius and on a trim, in metres.
RADIUS_MIN_M, RADIUS_MAX_M = 100, 2000
TRIM_MAX_M = 2000

_M_PER_DEG = np.pi / 180 * EARTH_RADIUS_M


@dataclass(frozen=True)
class Zone:
    lat: float
    lon: float
    radius_m: float


@dataclass(frozen=True)
class Rules:
    """An owner's privacy settings: what every shared output leaves out."""

    zones: tuple[Zone, ...] = ()
    trim_start_m: float = 0.0
    trim_end_m: float = 0.0


def _local_xy(zone: Zone, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Metres east and north of the zone's centre (flat within a couple of kilometres)."""
    x = (lon - zone.lon) * _M_PER_DEG * np.cos(np.radians(zone.lat))
    y = (lat - zone.lat) * _M_PER_DEG
    return x, y


def in_zones(lat: np.ndarray, lon: np.ndarray, zones: tuple[Zone, ...]) -> np.ndarray:
    """Mask of positions within any zone (NaN positions are not)."""
    lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    inside = np.zeros(len(lat), dtype=bool)
    for zone in zones:
        x, y = _local_xy(zone, lat, lon)
        with np.errstate(invalid="ignore"):
            inside |= x * x + y * y <= zone.radius_m * zone.radius_m
    return inside


def _steps_through(lat: np.ndarray, lon: np.ndarray, zones: tuple[Zone, ...]) -> np.ndarray:
    """Mask (length n-1) of straight steps from point i to i+1 passing within a zone."""
    through = np.zeros(max(len(lat) - 1, 0), dtype=bool)
    for zone in zones:
        x, y = _local_xy(zone, lat, lon)
        ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.clip(np.where(length2 > 0, -(ax * dx + ay * dy) / length2, 0.0), 0.0, 1.0)
            cx, cy = ax + t * dx, ay + t * dy
            through |= cx * cx + cy * cy <= zone.radius_m * zone.radius_m
    return through


def hidden(track: Track, rules: Rules) -> np.ndarray:
    """Mask of the track's points that others may not see."""
    n = track.n
    positioned = ~(np.isnan(track.lat) | np.isnan(track.lon))
    hide = in_zones(track.lat, track.lon, rules.zones)
    if (rules.trim_start_m > 0 or rules.trim_end_m > 0) and n:
        along = distance.along_m(track)
        # Unknown distances take the last known one (0 before any): never skipped.
        known = np.where(np.isnan(along), -np.inf, along)
        along = np.maximum.accumulate(known)
        along[np.isneginf(along)] = 0.0
        total = float(along[-1])
        if rules.trim_start_m > 0:
            hide |= along < rules.trim_start_m
        if rules.trim_end_m > 0:
            hide |= along > total - rules.trim_end_m
    if not positioned.all() and positioned.any():
        # A point without a position is hidden when the positioned point before or after
        # it is: it must not bridge what is hidden.
        index = np.arange(n)
        before = np.maximum.accumulate(np.where(positioned, index, -1))
        after = np.minimum.accumulate(np.where(positioned, index, n)[::-1])[::-1]
        near = (hide[np.clip(before, 0, n - 1)] & (before >= 0)) | (
            hide[np.clip(after, 0, n - 1)] & (after < n))
        hide = np.where(positioned, hide, near)
    return hide


def cut(track: Track, rules: Rules) -> Track:
    """The track as others may see it: hidden points removed, a new segment wherever
    points were removed or a step crosses a zone. The same track when nothing is hidden."""
    if track.n == 0 or (not rules.zones and rules.trim_start_m <= 0 and rules.trim_end_m <= 0):
        return track
    hide = hidden(track, rules)
    keep = np.flatnonzero(~hide)
    starts = np.zeros(track.n, dtype=bool)
    starts[list(track.segment_starts)] = True
    if len(keep):
        # A kept point starts a segment when the point before it was removed (a gap), or
        # when the step from the kept point before it passes through a zone.
        gap = np.ones(len(keep), dtype=bool)
        gap[1:] = np.diff(keep) > 1
        crossing = np.zeros(len(keep), dtype=bool)
        if rules.zones and len(keep) > 1:
            lat, lon = track.lat[keep], track.lon[keep]
            # Positionless points carry no step; compare each positioned point with the
            # positioned one before it.
            located = np.flatnonzero(~(np.isnan(lat) | np.isnan(lon)))
            if len(located) > 1:
                through = _steps_through(lat[located], lon[located], rules.zones)
                crossing[located[1:][through]] = True
        first = gap | crossing | starts[keep]
        new_starts = tuple(int(i) for i in np.flatnonzero(first))
    else:
        new_starts = (0,)
    columns = {name: values[keep] for name, values in track.columns.items()}
    return dataclasses.replace(track, columns=columns, segment_starts=new_starts, laps=())
