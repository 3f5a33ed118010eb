"""Effort: one passage of a track over a segment, timed between two crossings.

A crossing lies on a step of the track, between two recorded points, a fraction of the
way along it: its time is interpolated linearly, so that a sparse recording and a dense
one of the same ride give the same times (the clock runs evenly over a step).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import motion
from core.track import Track


@dataclass(frozen=True)
class Crossing:
    """Where a track passes a segment's start or end: on the step `before` -> `after`
    (indices into the track), `fraction` of the way along it."""

    before: int
    after: int
    fraction: float

    def time(self, clock: np.ndarray) -> float:
        start, end = clock[self.before], clock[self.after]
        return float(start + self.fraction * (end - start))

    def nearest_index(self) -> int:
        return self.after if self.fraction > 0.5 else self.before


@dataclass(frozen=True, kw_only=True)
class Effort:
    """One passage over a segment; offsets are seconds since the track's first timestamp."""

    start_index: int  # the recorded point nearest the start crossing
    end_index: int  # the recorded point nearest the end crossing
    start_offset_s: float
    end_offset_s: float
    elapsed_s: float
    moving_s: float  # core.motion's rule, the crossing steps counted in part
    average_speed_mps: float  # the segment's distance over the elapsed time
    average_hr: float | None  # time-weighted; None where no heart rate was recorded
    average_power: float | None  # time-weighted, zeros included; None without power


def measure(track: Track, *, start: Crossing, end: Crossing, distance_m: float,
            steps: motion.Steps) -> Effort:
    """The Effort between two crossings; `steps` is motion.moving_steps(track)."""
    clock = motion.monotonic(track.time)
    t0 = float(clock[np.isfinite(clock)][0])
    start_t, end_t = start.time(clock), end.time(clock)
    first, dt, speed = steps
    # Seconds of each step that fall between the crossings.
    begins = clock[first]
    with np.errstate(invalid="ignore"):
        inside = np.clip(np.minimum(begins + dt, end_t) - np.maximum(begins, start_t), 0.0, None)
    inside = np.nan_to_num(inside)
    elapsed_s = end_t - start_t
    return Effort(
        start_index=start.nearest_index(), end_index=end.nearest_index(),
        start_offset_s=start_t - t0, end_offset_s=end_t - t0, elapsed_s=elapsed_s,
        moving_s=float(np.sum(inside[motion.is_moving(dt, speed)])),
        average_speed_mps=distance_m / elapsed_s,
        average_hr=_time_weighted(track.hr, first=first, dt=dt, inside=inside),
        average_power=_time_weighted(track.power, first=first, dt=dt, inside=inside))


def _time_weighted(values: np.ndarray, *, first: np.ndarray, dt: np.ndarray,
                   inside: np.ndarray) -> float | None:
    """Mean of a column over the effort, each step weighted by its seconds inside it.

    A step holds the mean of its two ends' values (the one known end where the other is
    missing); a step longer than motion.GAP_S is left out, as nothing was recorded over it.
    """
    ends = np.stack([values[first], values[first + 1]])
    known = np.isfinite(ends)
    with np.errstate(invalid="ignore", divide="ignore"):
        held = np.where(known, ends, 0.0).sum(axis=0) / known.sum(axis=0)
    weight = np.where(np.isfinite(held) & (dt <= motion.GAP_S), inside, 0.0)
    total = float(np.sum(weight))
    if total <= 0:
        return None
    return float(np.sum(weight * np.nan_to_num(held)) / total)
