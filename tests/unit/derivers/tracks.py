"""Tracks built in code for the deriver tests: known shapes, known speeds."""

from __future__ import annotations

import math

import numpy as np

from core.track import Track

T0 = 1714543200.0  # 2024-05-01T06:00:00Z
#: One degree of latitude on the mean Earth sphere, metres.
ONE_DEGREE_M = 2 * math.pi * 6_371_008.8 / 360


def northward(n: int = 101, *, speed_mps: float = 11.1, lat0: float = 46.0, sport=None,
              segment_starts=(0,), **columns) -> Track:
    """n points one second apart, heading due north at `speed_mps`."""
    base = {"time": T0 + np.arange(n, dtype=float),
            "lat": lat0 + np.arange(n) * speed_mps / ONE_DEGREE_M,
            "lon": np.full(n, 14.0)}
    return Track(format="gpx", sport=sport, columns=base | columns,
                 segment_starts=segment_starts)


def wiggly(n: int, *, seed: int = 4) -> Track:
    """A random walk of n points one second apart: no two points in line."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.3, n))
    step = 5.0 / ONE_DEGREE_M
    lat = 46.0 + np.cumsum(np.cos(heading) * step)
    lon = 14.0 + np.cumsum(np.sin(heading) * step / math.cos(math.radians(46.0)))
    return Track(format="fit", sport="cycling",
                 columns={"time": T0 + np.arange(n, dtype=float), "lat": lat, "lon": lon,
                          "ele": 300 + 50 * np.sin(np.arange(n) / 500), "hr": np.full(n, 140.0)})


def without_gps(n: int = 61) -> Track:
    """An indoor session: time, heart rate and the trainer's distance, no positions."""
    return Track(format="fit", sport="cycling",
                 columns={"time": T0 + np.arange(n, dtype=float), "hr": np.full(n, 130.0),
                          "dist": np.arange(n) * 8.0})
