"""One activity's totals, the device's own where the file records them, else computed."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TypedDict
from zoneinfo import ZoneInfo

import numpy as np

from core import elevation, geo, motion, parts, titles
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

    #: The file's own name, else "<time of day> <sport>" (core.titles); never empty.
    title: str
    #: The IANA time zone at the first recorded position ("America/New_York"): the
    #: activity's local time; None without a position or where no zone is known.
    timezone: str | None
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
    parts: int | None  # recordings more than parts.PART_GAP_S apart; None without times
    bbox: BBox | None


def summarize(track: Track) -> Summary:
    """Track -> its Summary; DeriveError (NoPoints) when the track holds nothing.

    Rules every summary keeps (tests/unit/test_summary_rules.py): moving time is at most
    the elapsed time; the average speed is at most the top speed; no speed is over
    geo.MAX_SPEED_MPS; without timestamps there are no times, speeds or start time; the
    elapsed time is the sum of the parts' spans; the top speed and heart rate are the
    peaks of the series the charts draw.
    """
    if track.n == 0 or not (track.sessions or any(track.has(c) for c in track.columns)):
        raise DeriveError("This activity has no recorded points.", code="NoPoints",
                          permanent=True)
    # Each point's validity, radians and cosine once: distance, speeds, title and box
    # all read them (the per-point work is most of a summary's cost).
    positions = geo.Positions(track.lat, track.lon)
    distance_m, distance_source = _distance(track, positions)
    ascent_m, descent_m = _climb(track)
    hr_avg, hr_max = _heart_rate(track)
    times = _times(track, distance_m, positions) if _is_timed(track) else _UNTIMED
    zone = _zone(track, positions)
    return {
        "title": _title(track, times["start_time"], zone),
        "timezone": zone.key if zone is not None else None,
        "sport": track.sport,
        "sub_sport": track.sub_sport,
        "start_time": times["start_time"],
        "distance_m": _round(distance_m, 1),
        "distance_source": distance_source,
        "elapsed_s": _round(times["elapsed_s"], 1),
        "moving_s": _round(times["moving_s"], 1),
        "ascent_m": _round(ascent_m, 1),
        "descent_m": _round(descent_m, 1),
        "avg_speed_mps": _round(times["avg_speed_mps"], 3),
        "max_speed_mps": _round(times["max_speed_mps"], 3),
        "avg_hr_bpm": _round(hr_avg, 1),
        "max_hr_bpm": _round(hr_max, 0),
        "avg_power_w": _round(_mean(track.power), 1),
        "max_power_w": _round(_max(track.power), 0),
        "avg_cadence": _round(_mean(track.cadence[track.cadence > 0]), 1),
        "point_count": track.n,
        "sessions": len(track.sessions),
        "parts": times["parts"],
        "bbox": _bbox(track, positions),
    }


_UNTIMED = dict.fromkeys(("start_time", "elapsed_s", "moving_s", "avg_speed_mps",
                          "max_speed_mps", "parts"))


def _is_timed(track: Track) -> bool:
    """Whether the file says when it was recorded: point timestamps or a device's times."""
    return track.has("time") or any(s.elapsed_s is not None for s in track.sessions)


def _times(track: Track, distance_m: float | None, positions: geo.Positions) -> dict:
    """Start, elapsed and moving time, speeds and parts of a track with timestamps."""
    spans = _parts(track)
    elapsed_s = parts.elapsed_s(spans)
    # Once: moving time and both speeds read them.
    steps = motion.moving_steps(track, positions=positions)
    moving_s = _moving_s(track, steps)
    if moving_s is not None and elapsed_s is not None:
        moving_s = min(moving_s, elapsed_s)  # a device can claim more timer than wall clock
    avg_speed = _avg_speed(track, steps, positions, distance_m=distance_m,
                           moving_s=moving_s)
    max_speed = _max_speed(track, steps)
    if avg_speed is not None and max_speed is not None:
        # The device's distance over its timer can beat every speed its points held for
        # a few steps (a 14-point file, a treadmill); the top speed is what was seen.
        avg_speed = min(avg_speed, max_speed)
    return {"start_time": _start_time(track), "elapsed_s": elapsed_s, "moving_s": moving_s,
            "avg_speed_mps": avg_speed, "max_speed_mps": max_speed,
            "parts": len([s for s in spans if s[1] > s[0]]) or (1 if spans else None)}


def gps_distance_m(track: Track, positions: geo.Positions | None = None) -> float | None:
    """Metres along the GPS positions, segment by segment, glitches left out
    (geo.path_length_m's number); `positions` are the track's, when the caller has them.

    None when no segment has two usable positions. Never looks at the device's totals.
    """
    positions = positions or geo.Positions(track.lat, track.lon)
    if np.count_nonzero(positions.valid) < 2:
        return None
    return sum(positions.part(s).path_length_m(track.time[s]) for s in track.segments())


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


def _distance(track: Track, positions: geo.Positions) -> tuple[float | None, str | None]:
    if track.sessions and all(s.distance_m is not None for s in track.sessions):
        return sum(s.distance_m for s in track.sessions), "device"
    value = record_distance_m(track)
    if value is not None:
        return value, "records"
    value = gps_distance_m(track, positions)
    return (value, "gps") if value is not None else (None, None)


def _parts(track: Track) -> list[tuple[float, float]]:
    """(start, end) of each part: the device's sessions where each has its times, else the
    points' (core.parts). A single session's elapsed time is the device's own."""
    sessions = track.sessions
    if len(sessions) == 1 and sessions[0].elapsed_s is not None:
        start = sessions[0].start_time or 0.0
        return [(start, start + sessions[0].elapsed_s)]
    if len(sessions) > 1 and all(s.start_time is not None and s.elapsed_s is not None
                                 for s in sessions):
        return parts.merged([(s.start_time, s.start_time + s.elapsed_s) for s in sessions])
    return parts.spans(track.time)


def _moving_s(track: Track, steps: motion.Steps) -> float | None:
    if track.sessions and all(s.timer_s is not None for s in track.sessions):
        return sum(s.timer_s for s in track.sessions)
    return motion.moving_time_s(track, steps=steps)


def _climb(track: Track) -> tuple[float | None, float | None]:
    sessions = track.sessions
    if sessions and all(s.ascent_m is not None and s.descent_m is not None for s in sessions):
        return sum(s.ascent_m for s in sessions), sum(s.descent_m for s in sessions)
    legs = [elevation.climb_m(track.ele[s]) for s in track.segments()]
    legs = [leg for leg in legs if leg is not None]
    if not legs:
        return None, None
    return sum(up for up, _ in legs), sum(down for _, down in legs)


def _avg_speed(track: Track, steps: motion.Steps, positions: geo.Positions, *,
               distance_m: float | None, moving_s: float | None) -> float | None:
    """Distance over moving time; for points timed only in part (a file whose times were
    stripped from some tracks), the time-weighted mean of the timed steps' speeds, as
    the distance also covers points no moving time was counted for."""
    if not moving_s:
        return None
    if track.sessions or not _is_partly_timed(track, positions):
        return distance_m / moving_s if distance_m is not None else None
    _, dt, speed = steps
    moving = np.isfinite(speed) & (speed >= motion.STOP_SPEED_MPS)
    if not moving.any():
        return None
    return float(np.sum(speed[moving] * dt[moving]) / np.sum(dt[moving]))


def _is_partly_timed(track: Track, positions: geo.Positions) -> bool:
    return bool(np.any(positions.valid & np.isnan(track.time)))


def _max_speed(track: Track, steps: motion.Steps) -> float | None:
    """The top of the speed series the charts draw; the device's only where the points
    give no speed at all."""
    top = motion.max_speed_mps(track, steps=steps)
    if top is None and track.sessions and all(s.max_speed_mps is not None
                                              for s in track.sessions):
        return max(s.max_speed_mps for s in track.sessions)
    return top


def _heart_rate(track: Track) -> tuple[float | None, float | None]:
    """The device's average when every session has one, else the samples'; the maximum is
    the samples' (the peak the chart draws), the device's only without samples."""
    sessions = track.sessions
    # A heart rate of 0 is a strap that lost contact (or was never worn), not a reading.
    samples = track.hr[track.hr > 0]
    average, top = _mean(samples), _max(samples)
    if sessions and all(s.avg_hr and s.max_hr for s in sessions):
        weights = [s.timer_s or s.elapsed_s or 0.0 for s in sessions]
        if sum(weights) <= 0:
            weights = [1.0] * len(sessions)
        average = sum(s.avg_hr * w for s, w in zip(sessions, weights, strict=True)) / sum(weights)
        top = max(s.max_hr for s in sessions) if top is None else top
    return average, top


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


def _zone(track: Track, positions: geo.Positions) -> ZoneInfo | None:
    """The time zone where the activity began (its first valid position)."""
    placed = np.flatnonzero(positions.valid)
    if not len(placed):
        return None
    return titles.zone_of(float(track.lat[placed[0]]), float(track.lon[placed[0]]))


def _title(track: Track, start_time: str | None, zone: ZoneInfo | None) -> str:
    start = (datetime.strptime(start_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
             if start_time else None)
    return titles.title(sport=track.sport, start=start, zone=zone, name=track.name)


def _bbox(track: Track, positions: geo.Positions) -> BBox | None:
    """geo.bbox of the track, from the validity already known."""
    if not positions.valid.any():
        return None
    lat, lon = track.lat[positions.valid], track.lon[positions.valid]
    return BBox(min_lat=round(float(np.min(lat)), 6), min_lon=round(float(np.min(lon)), 6),
                max_lat=round(float(np.max(lat)), 6), max_lon=round(float(np.max(lon)), 6))


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
