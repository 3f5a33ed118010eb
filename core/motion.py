"""How fast an activity went, step by step: moving time and a top speed that ignores glitches."""

from __future__ import annotations

import numpy as np

from core import geo
from core.track import Track

#: Slower than this is standing still: GPS drift at a red light, not progress.
STOP_SPEED_MPS = 0.5
#: A step longer than this is a pause (auto-pause, a lost signal), never moving time.
GAP_S = 120.0
#: GPS speed is the displacement across this many seconds around a step, so that the
#: scatter of single fixes (metres each way, every second) does not read as speed.
GPS_WINDOW_S = 10.0
#: A top speed must be held over this many consecutive steps (their median).
MAX_SPEED_STEPS = 5


def step_speeds(track: Track, *, segment: slice) -> tuple[np.ndarray, np.ndarray]:
    """(duration, speed) of each step between consecutive points of one segment.

    Speed comes from the device's speed column, else its distance column, else GPS; NaN
    where none is known. A point stamped before its predecessor adds a step of 0 s; steps
    before the first timestamp last NaN.
    """
    dt = np.diff(_clock(track.time[segment]))
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
    return dt, np.where(np.isnan(speed), _gps_speeds(track, segment=segment), speed)


def moving_time_s(track: Track) -> float | None:
    """Seconds spent moving, from the points alone; None without timestamps.

    A step counts when it is no longer than GAP_S and not slower than STOP_SPEED_MPS; a
    step whose speed cannot be known counts, as the recording was running.
    """
    if not track.has("time"):
        return None
    total = 0.0
    for segment in track.segments():
        dt, speed = step_speeds(track, segment=segment)
        with np.errstate(invalid="ignore"):
            moving = (dt > 0) & (dt <= GAP_S) & ~(speed < STOP_SPEED_MPS)
        total += float(np.sum(dt[moving]))
    return total


def max_speed_mps(track: Track) -> float | None:
    """The highest speed held for MAX_SPEED_STEPS steps; None when no speed is known."""
    best = None
    for segment in track.segments():
        _, speed = step_speeds(track, segment=segment)
        speed = speed[np.isfinite(speed) & (speed <= geo.MAX_SPEED_MPS)]
        if len(speed) == 0:
            continue
        window = min(MAX_SPEED_STEPS, len(speed))
        held = np.median(np.lib.stride_tricks.sliding_window_view(speed, window), axis=1)
        top = float(np.max(held))
        best = top if best is None else max(best, top)
    return best


def _clock(time: np.ndarray) -> np.ndarray:
    """Timestamps made monotonic: a point stamped before its predecessor adds no time.

    Some exporters jitter timestamps back and forth by seconds; summing every forward
    step would then count the same seconds several times.
    """
    return np.fmax.accumulate(time) if len(time) else time


def _gps_speeds(track: Track, *, segment: slice) -> np.ndarray:
    """Speed of each step from the displacement across GPS_WINDOW_S of track around it."""
    lat, lon, time = track.lat[segment], track.lon[segment], _clock(track.time[segment])
    steps = np.arange(len(lat) - 1)
    searchable = np.where(np.isnan(time), -np.inf, time)  # only leading points lack a time
    middle = (time[:-1] + time[1:]) / 2
    first = np.minimum(np.searchsorted(searchable, middle - GPS_WINDOW_S / 2, "left"), steps)
    last = np.maximum(np.searchsorted(searchable, middle + GPS_WINDOW_S / 2, "right") - 1,
                      steps + 1)
    distance = geo.haversine_m(lat[first], lon[first], lat[last], lon[last])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(time[last] > time[first], distance / (time[last] - time[first]), np.nan)
