"""Probable duplicates: one outing recorded twice (a watch and a bike computer, or the same
run uploaded as FIT and later as GPX from another app).

Two activities are probably the same when their recorded time ranges overlap by more than
half the shorter one and, where both have positions, they were in the same place at the
same time: the median distance between them, compared at each one's own samples where the
other has positions, is under CLOSE_M. Comparing at the same instants (not route shapes)
keeps apart the same loop run on two days, and two devices' GPS seldom differ by more
than a few tens of metres. Pure: numbers in, pairs out.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from core import geo
from core.track import Track

#: Overlap of the time ranges, as a share of the shorter one, above which two are one.
OVERLAP = 0.5
#: Median distance (metres) at the same instants under which two tracks are one outing.
CLOSE_M = 100.0
#: Seconds between the samples kept of a track for the comparison: a device a few
#: seconds apart still has the other's position to within metres (interpolated).
STEP_S = 5.0


@dataclass(frozen=True, eq=False)
class Footprint:
    """When an activity was recorded (epoch seconds, first to last timestamp) and, where
    it has positions, where it was at some of those instants."""

    start: float
    end: float
    times: np.ndarray = field(default_factory=lambda: np.empty(0))
    lat: np.ndarray = field(default_factory=lambda: np.empty(0))
    lon: np.ndarray = field(default_factory=lambda: np.empty(0))

    @property
    def placed(self) -> bool:
        return len(self.times) > 0


def footprint(times: Iterable[float], lat: Iterable[float] | None = None,
              lon: Iterable[float] | None = None) -> Footprint | None:
    """From a recording's timestamps and positions (NaN or None where unknown); None
    without two timestamps (an activity without times cannot be placed in time)."""
    times = np.asarray(list(times) if not isinstance(times, np.ndarray) else times,
                       dtype=np.float64)
    timed = ~np.isnan(times)
    if timed.sum() < 2:
        return None
    start, end = float(np.min(times[timed])), float(np.max(times[timed]))
    if lat is None or lon is None:
        return Footprint(start, end)
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    known = timed & ~np.isnan(lat) & ~np.isnan(lon)
    order = np.argsort(times[known], kind="stable")
    t, la, lo = times[known][order], lat[known][order], lon[known][order]
    if not len(t):
        return Footprint(start, end)
    # The first sample of each STEP_S: an hour is 720 samples, whatever the device's rate.
    _, keep = np.unique(np.floor((t - t[0]) / STEP_S), return_index=True)
    t, la, lo = t[keep], la[keep], lo[keep]
    return Footprint(start, end, t, la, lo)


def of_track(track: Track) -> Footprint | None:
    return footprint(track.time, track.lat, track.lon)


def overlap_s(a: Footprint, b: Footprint) -> float:
    return max(0.0, min(a.end, b.end) - max(a.start, b.start))


def probable(a: Footprint, b: Footprint) -> bool:
    """Whether `a` and `b` are probably one outing recorded twice."""
    shorter = min(a.end - a.start, b.end - b.start)
    if shorter <= 0 or overlap_s(a, b) <= OVERLAP * shorter:
        return False
    if not (a.placed and b.placed):
        return True  # nothing says they were apart (an indoor ride and its watch)
    distance = median_distance_m(a, b)
    return distance is None or distance < CLOSE_M


def median_distance_m(a: Footprint, b: Footprint) -> float | None:
    """The median distance between the two at each one's samples inside the span where
    the other has positions (its position there interpolated); None when there is no such
    sample. Both ways: one may have samples only where the other has none."""
    distances = [_distances(a, b), _distances(b, a)]
    joined = np.concatenate(distances)
    return float(np.median(joined)) if len(joined) else None


def _distances(here: Footprint, there: Footprint) -> np.ndarray:
    inside = (here.times >= there.times[0]) & (here.times <= there.times[-1])
    t = here.times[inside]
    lat, lon = np.interp(t, there.times, there.lat), np.interp(t, there.times, there.lon)
    return geo.haversine_m(here.lat[inside], here.lon[inside], lat, lon)


def pairs(footprints: dict[int, Footprint]) -> list[tuple[int, int]]:
    """Every probable pair (lower id first), ordered; a sweep by start time, so only
    activities whose ranges meet are compared."""
    order = sorted(footprints, key=lambda key: (footprints[key].start, key))
    found: list[tuple[int, int]] = []
    active: list[int] = []
    for key in order:
        current = footprints[key]
        active = [other for other in active if footprints[other].end > current.start]
        for other in active:
            if probable(footprints[other], current):
                found.append((min(key, other), max(key, other)))
        active.append(key)
    return sorted(found)


def streams(track: Track) -> list[str]:
    """What a track recorded besides time, in the order the primary is chosen by."""
    found = [name for name, column in (("power", "power"), ("hr", "hr"), ("gps", "lat"))
             if track.has(column)]
    return found


def primary(a: tuple[int, list[str], int], b: tuple[int, list[str], int]) -> int:
    """Of two doubles (id, streams, points), the one to keep: the one with more data
    (power, then heart rate, then positions, then points), else the older (lower id)."""
    def rank(entry):
        key, found, points = entry
        return ("power" in found, "hr" in found, "gps" in found, points, -key)
    return max(a, b, key=rank)[0]


_HEADER = struct.Struct("<I")


def encode(footprint: Footprint) -> bytes:
    """The sampled times and positions, compactly (the start and end are stored apart)."""
    count = len(footprint.times)
    body = np.concatenate([footprint.times, footprint.lat, footprint.lon]).astype("<f8")
    return _HEADER.pack(count) + zlib.compress(body.tobytes(), 6)


def decode(start: float, end: float, data: bytes) -> Footprint:
    if not data:
        return Footprint(start, end)
    (count,) = _HEADER.unpack_from(data)
    values = np.frombuffer(zlib.decompress(data[_HEADER.size:]), dtype="<f8")
    return Footprint(start, end, values[:count].copy(), values[count:2 * count].copy(),
                     values[2 * count:].copy())


def candidates(spans: dict[int, tuple[float, float]]) -> set[int]:
    """The ids whose time ranges overlap another's by more than OVERLAP of the shorter:
    the only ones whose positions need reading (a sweep by start time)."""
    order = sorted(spans, key=lambda key: (spans[key][0], key))
    found: set[int] = set()
    active: list[int] = []
    for key in order:
        start, end = spans[key]
        active = [other for other in active if spans[other][1] > start]
        for other in active:
            o_start, o_end = spans[other]
            shorter = min(end - start, o_end - o_start)
            if shorter > 0 and min(end, o_end) - max(start, o_start) > OVERLAP * shorter:
                found.update((key, other))
        active.append(key)
    return found
