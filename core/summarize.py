"""One activity's totals, the device's own where the file records them, else computed."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TypedDict

import numpy as np

from core import elevation, geo, motion
from core.errors import DeriveError
from core.track import Track

#: FIT date_time values below this count seconds since the device powered on, not since
#: 1989-12-31 UTC (FIT profile, "date_time"): such a start time is unknown.
_FIT_SYSTEM_TIME_END = 631065600 + 0x10000000


class BBox(TypedDict):
    min_lat: float
    min_lon: float
    max_lat: float
    max_lon: float


class Summary(TypedDict):
    """The summary as stored and served: JSON-able, None where a value cannot be known."""

    sport: str | None
    sub_sport: str | None
    start_time: str | None  # "YYYY-MM-DDTHH:MM:SSZ"
    distance_m: float | None
    distance_source: str | None  # "device", "records" (device distance column) or "gps"
    elapsed_s: float | None
    moving_s: float | None
    ascent_m: float | None
    descent_m: float | None
    avg_speed_mps: float | None
    max_speed_mps: float | None
    avg_hr_bpm: float | None
    max_hr_bpm: int | None
    avg_power_w: float | None
    max_power_w: int | None
    avg_cadence: float | None
    point_count: int
    sessions: int
    bbox: BBox | None


def summarize(track: Track) -> Summary:
    """Track -> its Summary; DeriveError (NoPoints) when the track holds nothing."""
    if track.n == 0 or not (track.sessions or any(track.has(c) for c in track.columns)):
        raise DeriveError("This activity has no recorded points.", code="NoPoints",
                          permanent=True)
    steps = _Steps(track)
    distance_m, distance_source = _distance(track)
    elapsed_s = _elapsed_s(track)
    moving_s = _moving_s(track, steps)
    if moving_s is not None and elapsed_s is not None:
        moving_s = min(moving_s, elapsed_s)  # a device can claim more timer than wall clock
    ascent_m, descent_m = _climb(track)
    avg_speed = distance_m / moving_s if distance_m is not None and moving_s else None
    hr_avg, hr_max = _heart_rate(track)
    return {
        "sport": track.sport,
        "sub_sport": track.sub_sport,
        "start_time": _start_time(track),
        "distance_m": _round(distance_m, 1),
        "distance_source": distance_source,
        "elapsed_s": _round(elapsed_s, 1),
        "moving_s": _round(moving_s, 1),
        "ascent_m": _round(ascent_m, 1),
        "descent_m": _round(descent_m, 1),
        "avg_speed_mps": _round(avg_speed, 3),
        "max_speed_mps": _round(_max_speed(track, steps), 3),
        "avg_hr_bpm": _round(hr_avg, 1),
        "max_hr_bpm": _round(hr_max, 0),
        "avg_power_w": _round(_mean(track.power), 1),
        "max_power_w": _round(_max(track.power), 0),
        "avg_cadence": _round(_mean(track.cadence[track.cadence > 0]), 1),
        "point_count": track.n,
        "sessions": len(track.sessions),
        "bbox": _bbox(track),
    }


def gps_distance_m(track: Track) -> float | None:
    """Metres along the GPS positions, segment by segment, glitches left out.

    None when no segment has two usable positions. Never looks at the device's totals.
    """
    if np.count_nonzero(geo.valid_positions(track.lat, track.lon)) < 2:
        return None
    return sum(geo.path_length_m(track.lat[s], track.lon[s], time=track.time[s])
               for s in track.segments())


def record_distance_m(track: Track) -> float | None:
    """Metres from the device's cumulative distance column, never bridging segments."""
    total, found = 0.0, False
    for segment in track.segments():
        dist = track.dist[segment]
        dist = dist[np.isfinite(dist)]
        if len(dist):
            found = True
            # The running maximum: a sample that dips and recovers adds nothing.
            total += float(np.max(dist) - dist[0])
    return total if found else None


def _distance(track: Track) -> tuple[float | None, str | None]:
    if track.sessions and all(s.distance_m is not None for s in track.sessions):
        return sum(s.distance_m for s in track.sessions), "device"
    for compute, source in ((record_distance_m, "records"), (gps_distance_m, "gps")):
        value = compute(track)
        if value is not None:
            return value, source
    return None, None


def _elapsed_s(track: Track) -> float | None:
    sessions = track.sessions
    if len(sessions) == 1 and sessions[0].elapsed_s is not None:
        return sessions[0].elapsed_s
    if len(sessions) > 1 and all(s.start_time is not None and s.elapsed_s is not None
                                 for s in sessions):
        start = min(s.start_time for s in sessions)
        return max(s.start_time + s.elapsed_s for s in sessions) - start
    times = track.time[np.isfinite(track.time)]
    return float(np.max(times) - np.min(times)) if len(times) else None


class _Steps:
    """The track's step speeds, worked out on first use and only then."""

    def __init__(self, track: Track) -> None:
        self.track = track
        self._steps: list[tuple[np.ndarray, np.ndarray]] | None = None

    def get(self) -> list[tuple[np.ndarray, np.ndarray]]:
        if self._steps is None:
            self._steps = motion.segment_steps(self.track)
        return self._steps


def _moving_s(track: Track, steps: _Steps) -> float | None:
    if track.sessions and all(s.timer_s is not None for s in track.sessions):
        return sum(s.timer_s for s in track.sessions)
    return motion.moving_time_s(track, steps=steps.get()) if track.has("time") else None


def _climb(track: Track) -> tuple[float | None, float | None]:
    sessions = track.sessions
    if sessions and all(s.ascent_m is not None and s.descent_m is not None for s in sessions):
        return sum(s.ascent_m for s in sessions), sum(s.descent_m for s in sessions)
    legs = [elevation.climb_m(track.ele[s]) for s in track.segments()]
    legs = [leg for leg in legs if leg is not None]
    if not legs:
        return None, None
    return sum(up for up, _ in legs), sum(down for _, down in legs)


def _max_speed(track: Track, steps: _Steps) -> float | None:
    if track.sessions and all(s.max_speed_mps is not None for s in track.sessions):
        return max(s.max_speed_mps for s in track.sessions)
    return motion.max_speed_mps(track, steps=steps.get())


def _heart_rate(track: Track) -> tuple[float | None, float | None]:
    """Device average and maximum when every session has them, else from the samples."""
    sessions = track.sessions
    # A heart rate of 0 is a strap that lost contact (or was never worn), not a reading.
    if sessions and all(s.avg_hr and s.max_hr for s in sessions):
        weights = [s.timer_s or s.elapsed_s or 0.0 for s in sessions]
        if sum(weights) <= 0:
            weights = [1.0] * len(sessions)
        average = sum(s.avg_hr * w for s, w in zip(sessions, weights, strict=True)) / sum(weights)
        return average, max(s.max_hr for s in sessions)
    samples = track.hr[track.hr > 0]
    return _mean(samples), _max(samples)


def _start_time(track: Track) -> str | None:
    starts = [s.start_time for s in track.sessions if s.start_time is not None]
    times = track.time[np.isfinite(track.time)]
    start = min(starts) if starts else (float(np.min(times)) if len(times) else None)
    if start is None or (track.format == "fit" and start < _FIT_SYSTEM_TIME_END):
        return None
    try:
        return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):  # a clock far outside years 1..9999
        return None


def _bbox(track: Track) -> BBox | None:
    box = geo.bbox(track.lat, track.lon)
    return None if box is None else BBox(**{key: round(value, 6) for key, value in box.items()})


def _mean(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.mean(values)) if len(values) else None


def _max(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.max(values)) if len(values) else None


def _round(value: float | None, digits: int) -> float | int | None:
    if value is None or not math.isfinite(value):
        return None
    return int(round(value)) if digits == 0 else round(float(value), digits)
