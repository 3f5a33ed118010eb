"""The `charts` deriver: elevation, speed (or pace), heart-rate, cadence and power profiles, against
distance and against time, a few hundred points each.

Output (JSON):
    speed_kind   "pace" for running, walking and hiking, else "speed"
    by_distance  {"distance_m": [...], <profiles>} or null without any distance
    by_time      {"time_s": [...], <profiles>} or null without timestamps; time_s is
                 recording time: seconds since the start with pauses cut out
                 (motion.recording_s), so a two-day tour's chart is not half night
where <profiles> are those the track has of "elevation_m", "speed_mps" or
"pace_s_per_km", "hr_bpm", "cadence" and "power_w". Each x is the middle of a bin;
each value is the mean of the bin's readings (speed weighted by time), interpolated for an
empty bin between two readings of one segment, null where nothing is known; the speed is
the speed held over a few steps (motion.held_steps), and the bin holding the highest speed,
heart rate or power shows that reading itself, so that a profile's peak is the summary's
maximum (max_speed_mps, max_hr_bpm, max_power_w), never above or below it; the elevation
keeps both its highest and its lowest reading (the playback's readings stay inside the
chart's range).
"""

from __future__ import annotations

import re

import numpy as np

from core import distance, motion, resample
from core.derivers.base import Deriver
from core.track import Track

#: Points per profile: finer than a chart is wide on most screens.
MAX_POINTS = 400
#: Sports whose people read pace (time per kilometre) rather than speed.
PACE_SPORTS = re.compile(r"run|walk|hik|trek")


def build_charts(track: Track) -> dict:
    """Track -> the charts JSON described in the module docstring."""
    pace = bool(PACE_SPORTS.search((track.sport or "").lower()))
    steps = motion.held_steps(track)
    return {
        "speed_kind": "pace" if pace else "speed",
        "by_distance": _profiles(track, steps, x=distance.along_m(track),
                                 x_name="distance_m", pace=pace),
        # Pauses are cut out of recording time: only a change of segment leaves a gap.
        "by_time": _profiles(track, steps, x=motion.recording_s(track), x_name="time_s", pace=pace),
    }


def _profiles(track: Track, steps: tuple[np.ndarray, np.ndarray, np.ndarray], *,
              x: np.ndarray, x_name: str, pace: bool) -> dict | None:
    """One axis' profiles (None when the axis has no extent): even bins, a mean per bin."""
    if resample.span(x) <= 0:
        return None
    bins = min(MAX_POINTS, int(np.count_nonzero(np.isfinite(x))))
    edges = np.linspace(np.nanmin(x), np.nanmax(x), bins + 1)
    segment = resample.segment_numbers(track.segment_starts, track.n)
    first, dt, speed = steps
    speed = _binned((x[first] + x[first + 1]) / 2, speed, edges=edges,
                    segment=segment[first], weights=dt, peak=True)
    # A heart rate of 0 is a strap that lost contact, not a reading.
    hr = np.where(track.hr > 0, track.hr, np.nan)
    channels = {
        "elevation_m": (_binned(x, track.ele, edges=edges, segment=segment, peak=True,
                                trough=True), 1),
        "hr_bpm": (_binned(x, hr, edges=edges, segment=segment, peak=True), 0),
        # Power and cadence as recorded: a 0 is coasting or standing, a real reading.
        "cadence": (_binned(x, track.cadence, edges=edges, segment=segment), 0),
        "power_w": (_binned(x, track.power, edges=edges, segment=segment, peak=True), 0),
    }
    if pace:
        with np.errstate(invalid="ignore", divide="ignore"):
            # Standing still has no pace worth drawing: it would dwarf the rest.
            channels["pace_s_per_km"] = (np.where(speed >= motion.STOP_SPEED_MPS,
                                                  1000.0 / speed, np.nan), 0)
    else:
        channels["speed_mps"] = (speed, 2)
    out = {x_name: resample.to_list((edges[:-1] + edges[1:]) / 2, digits=1)}
    for name, (values, digits) in channels.items():
        if np.isfinite(values).any():
            out[name] = resample.to_list(values, digits=digits)
    return out


def _binned(x: np.ndarray, values: np.ndarray, *, edges: np.ndarray, segment: np.ndarray,
            weights: np.ndarray | None = None, peak: bool = False,
            trough: bool = False) -> np.ndarray:
    """Mean per bin; an empty bin between two readings of one segment is interpolated.

    With `peak`, the bin holding the highest reading shows that reading: a mean would
    hide the peak the summary reports as the maximum; with `trough`, the lowest too.
    """
    means = resample.bin_means(x, values, edges=edges, weights=weights)
    empty = np.isnan(means)
    if empty.any():
        centres = (edges[:-1] + edges[1:])[empty] / 2
        means[empty] = resample.interpolate(x, values, at=centres, segment=segment)
    if trough:
        resample.keep_peak(means, x, values, edges=edges, lowest=True)
    if peak:
        resample.keep_peak(means, x, values, edges=edges)
    return means


CHARTS = Deriver(
    name="charts",
    # 2: speed held over a few steps, glitches left out, and the peaks of speed and heart
    # rate kept, as the summary's maxima; no speed without timestamps
    # 3: cadence and power profiles
    # 4: the peak of power and the highest and lowest elevation kept through the bins
    version=4,
    needs=("track",),
    derive=build_charts,
)
