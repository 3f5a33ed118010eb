"""An activity's parts: recordings more than PART_GAP_S apart, whose elapsed times add up.

A GPX can hold tracks recorded months apart (two hikes in one file), and a file's clock
can jump by years; the calendar time from its first point to its last is then no one's
elapsed time. A part is a run of points none of which is more than PART_GAP_S after the
one before it; the activity's elapsed time is the sum of its parts' spans.

The rule is a gap between consecutive timestamps, not the file's track and segment
boundaries: the stored track keeps segments, but devices and exporters start a new one
at every auto-pause, and a single segment can hold a night; the gap alone says whether
the recording stopped for long, the same way for GPX, FIT and any later format.
"""

from __future__ import annotations

import numpy as np

#: Longer than any pause within one outing (lunch, a summit stop, a broken chain), shorter
#: than the night between two days: the stops of one activity stay inside it.
PART_GAP_S = 3 * 3600.0


def spans(time: np.ndarray) -> list[tuple[float, float]]:
    """(first, last) timestamp of each part, in the track's order; [] without timestamps.

    A timestamp that jumps by more than PART_GAP_S either way starts a new part, so a
    single point stamped years away is a part of its own and adds nothing.
    """
    time = time[np.isfinite(time)]
    if len(time) == 0:
        return []
    breaks = np.flatnonzero(np.abs(np.diff(time)) > PART_GAP_S) + 1
    return [(float(np.min(part)), float(np.max(part))) for part in np.split(time, breaks)]


def merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Intervals (a device's sessions) merged where they overlap or lie within
    PART_GAP_S of each other: one (start, end) per part, in time order."""
    out: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if out and start - out[-1][1] <= PART_GAP_S:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def elapsed_s(parts: list[tuple[float, float]]) -> float | None:
    """The sum of the parts' spans; None without parts."""
    return sum(end - start for start, end in parts) if parts else None
