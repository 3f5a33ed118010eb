"""Synthetic rides for the segment tests: paths drawn in local metres (x east, y north)
about a fixed place, ridden at known speeds, sampled as a device would."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from core.track import Track

LAT0, LON0 = 45.0, 6.0
T0 = 1_700_000_000.0  # the first timestamp of every ride
M_PER_DEG_LAT = math.pi / 180 * 6_371_008.8
M_PER_DEG_LON = M_PER_DEG_LAT * math.cos(math.radians(LAT0))


def degrees(x, y) -> tuple[np.ndarray, np.ndarray]:
    """Local metres -> (lat, lon)."""
    return (LAT0 + np.asarray(y, dtype=float) / M_PER_DEG_LAT,
            LON0 + np.asarray(x, dtype=float) / M_PER_DEG_LON)


def points(path) -> list[list[float]]:
    """A path of (x, y) metres -> [[lat, lon], ...], as a segment is drawn."""
    lat, lon = degrees(*np.asarray(path, dtype=float).T)
    return [[a, b] for a, b in zip(lat.tolist(), lon.tolist(), strict=True)]


def length(path) -> float:
    path = np.asarray(path, dtype=float)
    return float(np.sum(np.hypot(*np.diff(path, axis=0).T)))


def at(path, s) -> np.ndarray:
    """Positions (k, 2) at arc lengths `s` along the polyline `path`."""
    path = np.asarray(path, dtype=float)
    cumulative = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))])
    return np.column_stack([np.interp(s, cumulative, path[:, 0]),
                            np.interp(s, cumulative, path[:, 1])])


def ride(path, *, distance_at: Callable[[np.ndarray], np.ndarray], every_s: float = 1.0,
         first_s: float = 0.0, columns: dict[str, Callable] | None = None,
         keep: Callable[[np.ndarray], np.ndarray] | None = None,
         jitter_m: float = 0.0, seed: int = 0) -> Track:
    """The path ridden from its start, `distance_at(t)` metres along at t seconds, one
    point every `every_s` from `first_s` until the end; `columns` are other columns as
    functions of t; `keep(t)` masks the points recorded; `jitter_m` adds uniform noise."""
    end = float(_solve(distance_at, length(path)))
    t = np.arange(first_s, end, every_s)
    if keep is not None:
        t = t[keep(t)]
    xy = at(path, distance_at(t))
    if jitter_m:
        xy = xy + np.random.default_rng(seed).uniform(-jitter_m, jitter_m, xy.shape)
    lat, lon = degrees(xy[:, 0], xy[:, 1])
    extra = {name: np.asarray(f(t), dtype=float) for name, f in (columns or {}).items()}
    return Track(format="gpx", columns={"time": T0 + t, "lat": lat, "lon": lon, **extra})


def constant(speed_mps: float) -> Callable[[np.ndarray], np.ndarray]:
    return lambda t: speed_mps * np.asarray(t, dtype=float)


def time_at(distance_at: Callable, metres: float) -> float:
    """When the rider is `metres` along (bisection: distance_at must increase)."""
    return float(_solve(distance_at, metres))


def _solve(distance_at: Callable, metres: float) -> float:
    low, high = 0.0, 1.0
    while distance_at(np.array(high)) < metres:
        high *= 2
    for _ in range(80):
        middle = (low + high) / 2
        low, high = (middle, high) if distance_at(np.array(middle)) < metres else (low, middle)
    return (low + high) / 2
