"""The `playback` deriver: the activity resampled at a regular step, for replay in a browser.

Output (JSON, columnar: the i-th sample is the i-th entry of every list):
    axis        "time" (every `step` seconds of recording: pauses, such as the night of
                a two-day tour, are cut out; motion.recording_s), "distance" (every
                `step` metres, for a track without timestamps) or "index" (every `step`
                points: no time and no distance either)
    step        the sampling step in the axis' unit, never finer than the recording's
                typical step; the last sample is the end itself
    count       samples (at most MAX_SAMPLES)
    elapsed_s   wall-clock seconds since the first timestamp, increasing, jumping over
                a cut pause (time axis only)
    distance_m  metres from the start
    lat, lon, ele_m, speed_mps, hr_bpm, cadence, power_w
                where the track has them; a channel the track lacks is left out
Values are null where unknown: before a sensor's first reading, and in a gap between two
recorded segments (nothing is drawn across them).
"""

from __future__ import annotations

import numpy as np

from core import distance, motion, resample
from core.derivers.base import Deriver
from core.track import Track

#: Enough for a smooth replay of a whole day, small enough for a phone.
MAX_SAMPLES = 2000

#: Output name -> (track column, decimals).
CHANNELS: dict[str, tuple[str, int]] = {
    "lat": ("lat", 5),
    "lon": ("lon", 5),
    "ele_m": ("ele", 1),
    "hr_bpm": ("hr", 0),
    "cadence": ("cadence", 0),
    "power_w": ("power", 0),
}


def build_playback(track: Track) -> dict:
    """Track -> the playback JSON described in the module docstring."""
    along = distance.along_m(track)
    axis, x, step = _axis(track, along=along)
    at = resample.grid(resample.span(x), step) if track.n else np.empty(0)
    segment = resample.segment_numbers(track.segment_starts, track.n)

    def sample(values: np.ndarray) -> np.ndarray:
        return resample.interpolate(x, values, at=at, segment=segment)

    out: dict = {"axis": axis, "step": step, "count": len(at)}
    if axis == "time":
        out["elapsed_s"] = resample.to_list(_elapsed_s(track, recording=x, at=at), digits=1)
    channels = {"distance_m": (sample(along), 1)}
    channels |= {name: (sample(track.columns[column]), digits)
                 for name, (column, digits) in CHANNELS.items()}
    # Without time only the device can know a speed.
    channels["speed_mps"] = (sample(_point_speeds(track) if axis == "time" else track.speed), 2)
    for name, (values, digits) in channels.items():
        if np.isfinite(values).any():
            out[name] = resample.to_list(values, digits=digits)
    return out


def _axis(track: Track, *, along: np.ndarray) -> tuple[str, np.ndarray, float]:
    """(axis name, each point's position on it, step) for this track.

    The step is never finer than the recording's own: samples between two points would
    only repeat what the browser can interpolate itself.
    """
    recording = motion.recording_s(track)
    if resample.span(recording) > 0:
        step = resample.nice_step(resample.span(recording), max_count=MAX_SAMPLES,
                                  finest=resample.spacing(recording))
        return "time", recording, step
    if resample.span(along) > 0:
        step = resample.nice_step(resample.span(along), max_count=MAX_SAMPLES,
                                  finest=resample.spacing(along), steps=resample.NICE_METRES)
        return "distance", along, step
    step = float(max(1, -(-(track.n - 1) // (MAX_SAMPLES - 2))))  # ceiling division
    return "index", np.arange(track.n, dtype=np.float64), step


def _elapsed_s(track: Track, *, recording: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Wall-clock seconds since the start at each sample: jumps where a pause was cut."""
    clock = motion.monotonic(track.time)
    known = np.isfinite(clock)
    return np.interp(at, recording[known], clock[known] - clock[known][0])


def _point_speeds(track: Track) -> np.ndarray:
    """Speed at each point: the mean of the summary's speeds of the steps on either side."""
    first, _, speed = motion.moving_steps(track)
    before, after = np.full(track.n, np.nan), np.full(track.n, np.nan)
    after[first], before[first + 1] = speed, speed
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(before), after,
                        np.where(np.isnan(after), before, (before + after) / 2))


PLAYBACK = Deriver(
    name="playback",
    version=2,  # 2: a step faster than geo.MAX_SPEED_MPS is a glitch: no speed, not averaged
    needs=("track",),
    derive=build_playback,
)
