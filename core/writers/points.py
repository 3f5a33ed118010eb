"""A track's points as each writer walks them: Python numbers, None where the file has no
value, grouped by segment."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from core.track import COLUMNS, Track


@dataclass(frozen=True, slots=True)
class Point:
    time: float | None
    lat: float | None
    lon: float | None
    ele: float | None
    dist: float | None
    speed: float | None
    hr: float | None
    cadence: float | None
    power: float | None

    @property
    def placed(self) -> bool:
        return self.lat is not None and self.lon is not None


def segments(track: Track) -> Iterator[list[Point]]:
    """Each segment's points in order (a segment with none is left out)."""
    columns = {name: track.columns[name].tolist() if track.has(name) else None
               for name in COLUMNS}
    for part in track.segments():
        points = [Point(**{name: _value(values, i) for name, values in columns.items()})
                  for i in range(part.start, part.stop)]
        if points:
            yield points


def timed_segments(track: Track) -> list[list[Point]]:
    """Each segment's points that have a time (TCX and FIT need one), empty ones left out."""
    return _kept(track, lambda p: p.time is not None)


def placed_segments(track: Track) -> list[list[Point]]:
    """Each segment's points that have a position (GPX needs one), empty ones left out."""
    return _kept(track, lambda p: p.placed)


def _kept(track: Track, keep) -> list[list[Point]]:
    parts = [[p for p in points if keep(p)] for points in segments(track)]
    return [points for points in parts if points]


def utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def iso(seconds: float) -> str:
    """ISO 8601 in UTC with a Z, milliseconds only where the time has them."""
    moment = utc(round(seconds, 3))
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def number(value: float, places: int) -> str:
    """A decimal without exponent or trailing zeros."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _value(values: list[float] | None, index: int) -> float | None:
    if values is None:
        return None
    value = values[index]
    return None if math.isnan(value) else value
