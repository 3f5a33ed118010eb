"""A stretch of a track named by distances from its start (as people read them off the
activity's charts) -> the track indices a segment is cut between."""

from __future__ import annotations

import numpy as np

from core import geo


def along_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Distance from the first point to each point, metres; a step without a position on
    either end counts nothing (the next usable step carries on from there)."""
    if len(lat) == 0:
        return np.zeros(0)
    steps = np.nan_to_num(geo.step_distances_m(lat, lon), nan=0.0)
    return np.concatenate([[0.0], np.cumsum(steps)])


def indices(lat: np.ndarray, lon: np.ndarray, *, start_m: float,
            end_m: float) -> tuple[int, int]:
    """(first point at or past start_m, last point at or before end_m); ValueError (with
    a sentence) when no two points lie between them."""
    if not 0 <= start_m < end_m:
        raise ValueError("the start comes before the end, both from 0 up")
    along = along_m(lat, lon)
    if len(along) < 2 or start_m > along[-1]:
        raise ValueError(f"the activity is {along[-1] if len(along) else 0:.0f} m long: "
                         "start within it")
    first = int(np.searchsorted(along, start_m, side="left"))
    last = int(np.searchsorted(along, end_m, side="right")) - 1
    if last <= first:
        raise ValueError("that stretch holds fewer than two points: make it longer")
    return first, last
