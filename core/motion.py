"""How fast an activity went, step by step: moving time and a top speed that ignores glitches."""

from __future__ import annotations

import numpy as np

from core import geo
from core.track import Track

#: Slower than this is standing still: GPS drift at a red light, not progress.
STOP_SPEED_MPS = 0.5
#: A step longer than this is a pause (auto-pause, a lost signal), never moving time.
GAP_S = 120.0
#: A gap is only a pause when it is also this many times the recording's typical step.
PAUSE_STEPS = 5
#: GPS speed is the displacement across this many seconds around a step, so that the
#: scatter of single fixes (metres each way, every second) does not read as speed.
GPS_WINDOW_S = 10.0
#: A top speed must be held over this many consecutive steps (their median).
MAX_SPEED_STEPS = 5


def step_speeds(track: Track, *, segment: slice,
                positions: geo.Positions | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(duration, speed) of each step between consecutive points of one segment.

    Speed comes from the device's speed column, else its distance column, else GPS; NaN
    where none is known. A point stamped before its predecessor adds a step of 0 s; steps
    before the first timestamp last NaN. `positions` are the segment's, when the caller
    has them already.
    """
    clock = monotonic(track.time[segment])
    dt = np.diff(clock)
    speed = np.full(len(dt), np.nan)
    device = track.speed[segment]
    if np.any(device > 0):  # an indoor session's constant 0 says nothing about moving
        # The mean of the speeds at both ends; one end alone where the other is missing.
        start, end = device[:-1], device[1:]
        speed = np.where(np.isnan(start), end, np.where(np.isnan(end), start, (start + end) / 2))
    distance = track.dist[segment]
    if np.nanmax(distance, initial=-np.inf) > np.nanmin(distance, initial=np.inf):
        with np.errstate(invalid="ignore", divide="ignore"):
            by_distance = np.diff(distance) / np.where(dt > 0, dt, np.nan)
        speed = np.where(np.isnan(speed) & (by_distance >= 0), by_distance, speed)
    if not np.isnan(speed).any():  # the device's columns gave every step a speed
        return dt, speed
    positions = positions or geo.Positions(track.lat[segment], track.lon[segment])
    return dt, np.where(np.isnan(speed), _gps_speeds(clock, positions=positions), speed)


#: (index of each step's first point, its duration, its speed), over all segments.
Steps = tuple[np.ndarray, np.ndarray, np.ndarray]


def moving_steps(track: Track, *, positions: geo.Positions | None = None) -> Steps:
    """(index of each step's first point, its duration, its speed) over all segments.

    The speed is `step_speeds`', NaN for a step across a pause (over GAP_S), with no
    duration, or faster than geo.MAX_SPEED_MPS: such a step says nothing about the speed
    at any moment of it (a glitch is left out, never averaged in). `positions` are the
    track's, when the caller has them already.
    """
    firsts, durations, speeds = [], [], []
    for segment in track.segments():
        dt, speed = step_speeds(track, segment=segment, positions=positions and
                                positions.part(segment))
        firsts.append(np.arange(segment.start, segment.stop - 1))
        durations.append(dt)
        speeds.append(_judged(dt, speed))
    if not firsts:
        return np.empty(0, dtype=np.int64), np.empty(0), np.empty(0)
    return np.concatenate(firsts), np.concatenate(durations), np.concatenate(speeds)


def held_steps(track: Track, *, steps: Steps | None = None) -> Steps:
    """`moving_steps` with each known speed replaced by the speed held around it: the
    median of the MAX_SPEED_STEPS known steps centred on it, within its segment.

    The summary's top speed is the highest of these and the charts' speed profile is
    drawn from them, so that the chart's peak and the summary's top speed are one value.
    `steps` is `moving_steps(track)` when the caller has it already (GPS speeds are the
    dearest part of a summary).
    """
    first, dt, speed = steps if steps is not None else moving_steps(track)
    held = np.full(len(speed), np.nan)
    start = 0
    for segment in track.segments():  # moving_steps' order: n - 1 steps per segment
        stop = start + segment.stop - segment.start - 1
        known = np.flatnonzero(np.isfinite(speed[start:stop])) + start
        if len(known):
            held[known] = _rolling_median(speed[known], MAX_SPEED_STEPS)
        start = stop
    return first, dt, held


def recording_s(track: Track) -> np.ndarray:
    """Seconds of recording before each point: the clock with every pause cut out.

    A pause is a step longer than GAP_S and than PAUSE_STEPS typical steps (a logger that
    writes a point every five minutes is not pausing between them). Replays and charts
    run on this clock, so that the night between two days of a tour (or a clock that
    jumped) neither freezes a replay nor takes half a chart. NaN before the first time.
    """
    clock = monotonic(track.time)
    steps = np.diff(clock)
    forward = steps[steps > 0]
    if len(forward) == 0:
        return np.where(np.isnan(clock), np.nan, 0.0)
    pause = max(GAP_S, PAUSE_STEPS * float(np.median(forward)))
    with np.errstate(invalid="ignore"):
        steps = np.where(steps > pause, 0.0, steps)
    active = np.concatenate([[0.0], np.nancumsum(steps)])
    active[np.isnan(clock)] = np.nan
    return active


def moving_time_s(track: Track, *, steps: Steps | None = None) -> float | None:
    """Seconds spent moving, from the points alone; None without timestamps.

    A step counts when it is no longer than GAP_S and not slower than STOP_SPEED_MPS; a
    step whose speed cannot be known (or a glitch's) counts, as the recording was
    running. `steps` is `moving_steps(track)` when the caller has it already.
    """
    if not track.has("time"):
        return None
    _, dt, speed = steps if steps is not None else moving_steps(track)
    return float(np.sum(dt[is_moving(dt, speed)]))


def is_moving(dt: np.ndarray, speed: np.ndarray) -> np.ndarray:
    """Mask of the steps (`moving_steps`' durations and speeds) that count as moving time."""
    with np.errstate(invalid="ignore"):
        return (dt > 0) & (dt <= GAP_S) & ~(speed < STOP_SPEED_MPS)


def max_speed_mps(track: Track, *, steps: Steps | None = None) -> float | None:
    """The highest speed held for MAX_SPEED_STEPS steps (`held_steps`); None when no
    speed is known."""
    held = held_steps(track, steps=steps)[2]
    return float(np.nanmax(held)) if np.isfinite(held).any() else None


def _judged(dt: np.ndarray, speed: np.ndarray) -> np.ndarray:
    """Step speeds with those that say nothing about a moment of motion made NaN."""
    with np.errstate(invalid="ignore"):
        return np.where((dt > 0) & (dt <= GAP_S) & (speed <= geo.MAX_SPEED_MPS), speed, np.nan)


def _rolling_median(values: np.ndarray, window: int) -> np.ndarray:
    """The median of the `window` values centred on each (shifted inwards at the ends)."""
    window = min(window, len(values))
    if window == 5:  # MAX_SPEED_STEPS: elementwise minima and maxima, no partition per row
        medians = _median_of_5(*(values[k:len(values) - 4 + k] for k in range(5)))
        # Indices clipped to the medians' range: the first twice more, the last twice more.
        return np.concatenate((medians[:1], medians[:1], medians, medians[-1:], medians[-1:]))
    medians = np.median(np.lib.stride_tricks.sliding_window_view(values, window), axis=1)
    return medians[np.clip(np.arange(len(values)) - window // 2, 0, len(medians) - 1)]


def _median_of_5(a, b, c, d, e) -> np.ndarray:
    """The median of five arrays' values, elementwise: ten minima and maxima, each giving
    one of its inputs, so the median is one of the five values, exactly np.median's
    (the median of the pairs' inner bounds and the fifth; tested on every ordering)."""
    low = np.maximum(np.minimum(a, b), np.minimum(c, d))
    high = np.minimum(np.maximum(a, b), np.maximum(c, d))
    return np.maximum(np.minimum(low, high), np.minimum(np.maximum(low, high), e))


def monotonic(time: np.ndarray) -> np.ndarray:
    """Timestamps made monotonic: a point stamped before its predecessor adds no time.

    Some exporters jitter timestamps back and forth by seconds; summing every forward
    step would then count the same seconds several times.
    """
    return np.fmax.accumulate(time) if len(time) else time


def _gps_speeds(time: np.ndarray, *, positions: geo.Positions) -> np.ndarray:
    """Speed of each step from the displacement across GPS_WINDOW_S of track around it
    (`time` the segment's, made monotonic)."""
    steps = np.arange(len(time) - 1)
    middle = (time[:-1] + time[1:]) / 2
    if np.isnan(time[0]):  # only leading points lack a time: they sort first
        searchable = np.where(np.isnan(time), -np.inf, time)
        first = np.searchsorted(searchable, middle - GPS_WINDOW_S / 2, "left")
        last = np.searchsorted(searchable, middle + GPS_WINDOW_S / 2, "right")
    else:
        first = sorted_search(time, middle - GPS_WINDOW_S / 2, "left")
        last = sorted_search(time, middle + GPS_WINDOW_S / 2, "right")
    first = np.minimum(first, steps)
    last = np.maximum(last - 1, steps + 1)
    distance = positions.between(first, last)
    span = time[last] - time[first]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(span > 0, distance / span, np.nan)


def sorted_search(values: np.ndarray, needles: np.ndarray, side: str) -> np.ndarray:
    """np.searchsorted(values, needles, side), index for index, for sorted finite `values`
    and finite `needles`; quicker where the values are evenly spaced (a recording every
    second), as a summary's GPS speeds search twice a step.

    Each index is first guessed as if the values were evenly spaced, then checked
    against the one property that defines it (values[i - 1] < needle <= values[i] on the
    left, values[i - 1] <= needle < values[i] on the right, which holds for exactly one
    i of a sorted array): a guess that fails is searched for as numpy would."""
    count = len(values)
    if count < 2 or not values[0] < values[-1] < np.inf:
        return np.searchsorted(values, needles, side)
    offset = needles - values[0]
    offset /= (values[-1] - values[0]) / (count - 1)
    if side == "left":
        np.ceil(offset, out=offset)
    else:
        np.floor(offset, out=offset)
        offset += 1
    np.clip(offset, 0, count, out=offset)
    guess = offset.astype(np.intp)
    padded = np.concatenate(([-np.inf], values, [np.inf]))
    before, at = padded[guess], padded[guess + 1]  # values[i - 1], values[i]
    if side == "left":
        right = (before < needles) & (needles <= at)
    else:
        right = (before <= needles) & (needles < at)
    if not right.all():
        wrong = np.flatnonzero(~right)
        guess[wrong] = np.searchsorted(values, needles[wrong], side)
    return guess
