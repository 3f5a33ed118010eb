"""A stretch of a track named by distances from its start (as people read them off the
activity's charts, splits and playback, which all measure with core.distance) -> the
track indices a segment is cut between."""

from __future__ import annotations

import numpy as np

from core import distance
from core.track import Track


def indices(track: Track, *, start_m: float, end_m: float) -> tuple[int, int]:
    """(first point at or past start_m, last point at or before end_m); ValueError (with
    a sentence) when no two points lie between them."""
    if not 0 <= start_m < end_m:
        raise ValueError("the start comes before the end, both from 0 up")
    # Points before the first known distance count as the start; a device's distance
    # that steps back is held, so the search sees a running maximum.
    along = np.maximum.accumulate(np.nan_to_num(distance.along_m(track), nan=0.0)) \
        if track.n else np.zeros(0)
    if len(along) < 2 or start_m > along[-1]:
        raise ValueError(f"the activity is {along[-1] if len(along) else 0:.0f} m long: "
                         "start within it")
    first = int(np.searchsorted(along, start_m, side="left"))
    last = int(np.searchsorted(along, end_m, side="right")) - 1
    if last <= first:
        raise ValueError("that stretch holds fewer than two points: make it longer")
    return first, last
