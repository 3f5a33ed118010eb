"""Total ascent and descent from a noisy elevation profile."""

from __future__ import annotations

import numpy as np

#: Points averaged (centred) before climbing is counted: takes the edge off GPS noise.
SMOOTHING_POINTS = 3
#: Elevation must turn back by this much before a climb or descent counts as finished;
#: wobbles smaller than this are noise, not terrain. With SMOOTHING_POINTS, this puts the
#: corpus within a few per cent of gpxpy's numbers and of the devices' own totals.
HYSTERESIS_M = 2.0


def climb_m(ele: np.ndarray) -> tuple[float, float] | None:
    """(ascent, descent) in metres over one segment; None when no point has an elevation."""
    ele = ele[np.isfinite(ele)]
    if len(ele) == 0:
        return None
    return _hysteresis(_smooth(ele), threshold=HYSTERESIS_M)


def _smooth(ele: np.ndarray) -> np.ndarray:
    """Centred moving average; the end points keep their values, as nothing lies beyond."""
    if len(ele) < SMOOTHING_POINTS:
        return ele
    pad = SMOOTHING_POINTS // 2
    smoothed = ele.copy()
    smoothed[pad:len(ele) - pad] = np.convolve(
        ele, np.full(SMOOTHING_POINTS, 1 / SMOOTHING_POINTS), mode="valid")
    return smoothed


def _hysteresis(ele: np.ndarray, *, threshold: float) -> tuple[float, float]:
    """Sum the climbs and descents that exceed `threshold`, turning point to turning point.

    1. Keep only the turning points (a monotonic run adds nothing between its ends).
    2. Walk them, tracking the extreme of the current leg; when the profile turns back by
       `threshold` or more, the leg is final: add it and start the next from its extreme.
    3. The last leg counts once it exceeded `threshold`.
    """
    ele = _turning_points(ele)
    ascent = descent = 0.0
    base = extreme = float(ele[0])
    rising: bool | None = None  # direction of the current leg, None until one is clear
    for value in ele[1:].tolist():
        if rising is None:
            if abs(value - base) >= threshold:
                rising, extreme = value > base, value
        elif (value - extreme) * (1 if rising else -1) > 0:
            extreme = value  # the leg goes on
        elif abs(value - extreme) >= threshold:
            if rising:
                ascent += extreme - base
            else:
                descent += base - extreme
            base, extreme, rising = extreme, value, not rising
    if rising is True:
        ascent += extreme - base
    elif rising is False:
        descent += base - extreme
    return ascent, descent


def _turning_points(ele: np.ndarray) -> np.ndarray:
    change = np.diff(ele)
    ele, change = ele[np.r_[True, change != 0]], change[change != 0]
    if len(ele) < 3:
        return ele
    turns = np.flatnonzero(np.sign(change[1:]) != np.sign(change[:-1])) + 1
    return ele[np.r_[0, turns, len(ele) - 1]]
