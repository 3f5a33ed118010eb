"""Best efforts within one activity: the fastest stretch over each record distance, and the
highest average power over each record duration, with where in the activity they lie.

Distance is the recorded distance along the activity (core.distance.along_m: the device's
distance column, else the GPS path with spikes left out), and time the clock since the
first point. A stretch may start and end between two points: time is interpolated along
the step, so a sparse recording is not penalised by where its points happen to fall.

Glitches make no record. Besides what along_m leaves out (steps faster than
geo.MAX_SPEED_MPS), every step faster than its family's ceiling (RUN_CEILING_MPS for foot
records, RIDE_CEILING_MPS for bike records) is counted as no distance at all: a teleport
then adds time but no metres, so no stretch can average more than the ceiling.
"""

from __future__ import annotations

import numpy as np

from core import distance, motion
from core.track import Track

#: Foot records (kind -> metres), run on the ceiling below.
RUN_DISTANCES: dict[str, float] = {
    "400m": 400.0, "1k": 1000.0, "1mile": 1609.344, "5k": 5000.0, "10k": 10000.0,
    "half_marathon": 21097.5, "marathon": 42195.0,
}
#: Bike records (kind -> metres).
RIDE_DISTANCES: dict[str, float] = {"10k": 10000.0, "20k": 20000.0, "40k": 40000.0}
#: Bike power records (kind -> seconds).
POWER_WINDOWS: dict[str, int] = {"power_5min": 300, "power_20min": 1200, "power_60min": 3600}

#: Faster than any human runs for a second (Bolt peaked near 12.4 m/s).
RUN_CEILING_MPS = 12.5
#: Faster than a road descent is ridden (about 110 km/h).
RIDE_CEILING_MPS = 30.0
#: Power is averaged on a 1 s grid of recording time; a recording longer than this (a
#: multi-week logger file) gets no power records rather than a grid of millions of cells.
MAX_POWER_SPAN_S = 7 * 24 * 3600


def best_efforts(track: Track) -> dict:
    """Track -> {"running": {kind: effort}, "cycling": {kind: effort}}.

    Both families are derived whatever the file says the sport is, so that an owner's
    change of sport needs no re-derivation: the records pick the family of the sport
    shown. An effort is {"value", "start_offset_s", "end_offset_s"}: seconds for a
    distance, watts for power; offsets are seconds since the first timestamp. A kind the
    activity is too short for (or has no timestamps or power for) is absent.
    """
    out: dict[str, dict] = {"running": {}, "cycling": {}}
    time = motion.monotonic(track.time) if track.n else track.time
    known = np.isfinite(time)
    if np.count_nonzero(known) < 2:
        return out
    t0 = float(time[known][0])
    along = distance.along_m(track)
    for family, kinds, ceiling in (("running", RUN_DISTANCES, RUN_CEILING_MPS),
                                   ("cycling", RIDE_DISTANCES, RIDE_CEILING_MPS)):
        t, d = capped(time, along, ceiling_mps=ceiling)
        for kind, metres in kinds.items():
            found = fastest(t, d, metres)
            if found is not None:
                out[family][kind] = _effort(found[0], found[1] - t0, found[2] - t0, digits=1)
    if track.has("power"):
        out["cycling"] |= _power(track, time, t0)
    return out


def capped(time: np.ndarray, along: np.ndarray, *, ceiling_mps: float
           ) -> tuple[np.ndarray, np.ndarray]:
    """(time, distance from the first point) of the points where both are known, every
    step faster than `ceiling_mps` (or moving in no time) counted as no distance."""
    keep = np.isfinite(time) & np.isfinite(along)
    t, d = time[keep], along[keep]
    if len(t) == 0:
        return t, d
    dd, dt = np.diff(d), np.diff(t)
    dd[dd > ceiling_mps * dt] = 0.0  # dt >= 0 (monotonic), so dt == 0 catches a jump too
    return t, np.concatenate([[0.0], np.cumsum(np.maximum(dd, 0.0))])


def fastest(t: np.ndarray, d: np.ndarray, metres: float
            ) -> tuple[float, float, float] | None:
    """(seconds, start time, end time) of the quickest stretch covering `metres`, or None.

    The time to cover `metres` from distance x is piecewise linear in x, with corners
    where x or x + metres is a point's distance; so its minimum is at one of them:
    1. every point as the end, the start interpolated `metres` before it;
    2. every point as the start, the end interpolated `metres` after it.
    `d` is non-decreasing from 0, `t` non-decreasing.
    """
    if len(d) < 2 or d[-1] < metres:
        return None
    ends = np.flatnonzero(d >= metres)
    starts_t = _time_at(t, d, d[ends] - metres, latest=True)
    begins = np.flatnonzero(d + metres <= d[-1])
    ends_t = _time_at(t, d, d[begins] + metres, latest=False)
    took = np.concatenate([t[ends] - starts_t, ends_t - t[begins]])
    lo = np.concatenate([starts_t, t[begins]])
    hi = np.concatenate([t[ends], ends_t])
    best = int(np.argmin(took))
    return float(took[best]), float(lo[best]), float(hi[best])


def _time_at(t: np.ndarray, d: np.ndarray, x: np.ndarray, *, latest: bool) -> np.ndarray:
    """When the activity was at distance x: the last moment there for a start (`latest`),
    the first for an end; linear within a step."""
    if latest:
        i = np.searchsorted(d, x, side="right") - 1  # last point at or before x
        j = np.minimum(i + 1, len(d) - 1)
    else:
        j = np.searchsorted(d, x, side="left")  # first point at or past x
        i = np.maximum(j - 1, 0)
    span = d[j] - d[i]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(span > 0, (x - d[i]) / np.where(span > 0, span, 1.0), 0.0)
    exact = d[j] == x if not latest else d[i] == x
    at = t[i] + share * (t[j] - t[i])
    return np.where(exact, t[j] if not latest else t[i], at)


def _power(track: Track, time: np.ndarray, t0: float) -> dict:
    """Best average power per POWER_WINDOWS, on a 1 s grid of recording time (pauses cut
    out): each second holds the last reading before it, no reading counts as 0 W."""
    clock = motion.recording_s(track)
    keep = np.isfinite(clock)
    clock, elapsed = clock[keep], time[keep] - t0
    power = np.nan_to_num(track.power[keep], nan=0.0)
    span = float(clock[-1]) if len(clock) else 0.0
    if span > MAX_POWER_SPAN_S or span < min(POWER_WINDOWS.values()):
        return {}
    grid = np.arange(int(span)) + 0.5  # the middle of each second
    watts = power[np.searchsorted(clock, grid, side="right") - 1]
    sums = np.concatenate([[0.0], np.cumsum(watts)])
    out = {}
    for kind, seconds in POWER_WINDOWS.items():
        if seconds > len(watts):
            continue
        means = (sums[seconds:] - sums[:-seconds]) / seconds
        first = int(np.argmax(means))
        start, end = np.interp([first, first + seconds], clock, elapsed)
        out[kind] = _effort(float(means[first]), start, end, digits=0)
    return out


def _effort(value: float, start_s: float, end_s: float, *, digits: int) -> dict:
    return {"value": round(value, digits), "start_offset_s": round(float(start_s), 1),
            "end_offset_s": round(float(end_s), 1)}
