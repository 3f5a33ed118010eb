"""One column of a track on a 1 s grid of recording time: the form power and heart-rate
loads are computed on, so that a file recorded every second and one recorded every few
seconds give the same numbers.

The rules, and why:
1. Timestamps are made monotonic (motion.monotonic); points without one are left out.
2. A step longer than PAUSE_S (and than PAUSE_STEPS typical steps) is a pause: it is cut
   out of the clock. Auto-pause, a stop at a café or the night of a multi-day file is
   then neither hours of zeros (which would sink normalized power and stretch TSS's
   duration) nor hours of the last reading held.
3. Within shorter steps each second holds the last reading before its middle (the device
   wrote a point when something changed; a dropout of a few seconds is bridged).
This is core/efforts.py's power grid with a shorter pause: efforts cuts only the pauses
motion.recording_s cuts (over two minutes), which is fine for a best 20 minutes but
would count a one-minute auto-pause as a minute of the last reading in a ride's load.

Memory: a grid cell per second of recording time (8 bytes, a few arrays of it at once);
a recording longer than efforts.MAX_POWER_SPAN_S gets no grid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core import efforts, motion
from core.track import Track

#: A step longer than this is a pause (cut out), unless the recording's typical step
#: makes it ordinary (PAUSE_STEPS of them).
PAUSE_S = 10.0
PAUSE_STEPS = 5


@dataclass(frozen=True, eq=False)
class PerSecond:
    """A column's value in each second of recording time; NaN where the held reading has
    none. `clock` (recording seconds, pauses cut) and `elapsed` (seconds since the track's
    first timestamp) are the points' own, for placing a second back on the activity."""

    values: np.ndarray
    clock: np.ndarray
    elapsed: np.ndarray

    def elapsed_at(self, second: float) -> float:
        """Seconds since the track's first timestamp at `second` of recording time; a
        second that starts where a pause was cut lies after the pause."""
        point = int(np.searchsorted(self.clock, second, side="right")) - 1
        return float(self.elapsed[point] + (second - self.clock[point]))


def per_second(track: Track, column: str, *, trim: bool = False) -> PerSecond | None:
    """`column` on the 1 s grid of recording time (see the module docstring); None when
    the recording is longer than efforts.MAX_POWER_SPAN_S.

    With `trim`, the grid runs only from the first to the last timed reading of the
    column: a triathlon's power meter rides the bike leg, and the swim and run around it
    are no part of the ride's power.
    """
    time = motion.monotonic(track.time) if track.n else track.time
    timed = np.isfinite(time)
    empty = PerSecond(np.empty(0), np.zeros(1), np.zeros(1))
    if not timed.any():
        return empty
    t0 = float(time[timed][0])
    t, values = time[timed], track.columns[column][timed]
    if trim:
        known = np.flatnonzero(np.isfinite(values))
        if len(known) == 0:
            return empty
        t, values = t[known[0]:known[-1] + 1], values[known[0]:known[-1] + 1]
    steps = np.diff(t)
    forward = steps[steps > 0]
    if len(forward) == 0:
        return PerSecond(np.empty(0), np.zeros(1), t[:1] - t0)
    pause = max(PAUSE_S, PAUSE_STEPS * float(np.median(forward)))
    clock = np.concatenate([[0.0], np.cumsum(np.where(steps > pause, 0.0, steps))])
    if clock[-1] > efforts.MAX_POWER_SPAN_S:
        return None
    middles = np.arange(int(clock[-1])) + 0.5
    held = np.searchsorted(clock, middles, side="right") - 1
    return PerSecond(values[held], clock, t - t0)
