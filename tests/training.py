"""For the training tests: corpus files with power or heart rate (decoded once per
session), and the 1 s grid of recording time rebuilt the slow way, point by point, as
the reference core/training/seconds.py is held to; and rides of even power made for the
training book's tests, whose loads are worked by hand."""

from __future__ import annotations

import math
from datetime import datetime
from functools import cache
from pathlib import Path

import numpy as np

from core import decode
from core.track import Track
from core.training import seconds
from tests.corpus import require_corpus, rows


@cache
def _decoded(column_field: str) -> dict[str, Track]:
    folder = require_corpus()
    found = {}
    for row in rows(folder="fit"):
        if row[column_field] in ("", "0") or int(row["n_records"] or 0) < 100:
            continue
        try:
            found[row["file"]] = decode.decode(Path(folder, row["file"]).read_bytes(), "fit")
        except decode.DecodeError:
            continue
    return found


def with_power() -> dict[str, Track]:
    """Corpus FIT activities (100 points or more) that recorded power."""
    return _decoded("n_records_with_power")


def with_hr() -> dict[str, Track]:
    """Corpus FIT activities (100 points or more) that recorded heart rate."""
    return _decoded("n_records_with_hr")


def has_whole_seconds(track: Track) -> bool:
    """Whether every timestamp is a whole second: then the grid is exactly each reading
    repeated for its step's seconds, which `slow_grid` builds."""
    time = track.time[np.isfinite(track.time)]
    return bool(np.all(time == np.round(time)))


def slow_grid(track: Track, column: str, *, trim: bool) -> tuple[list[float], list[float]]:
    """(value, seconds since the first timestamp) for each second of recording time, for
    a track whose timestamps are whole seconds: a loop over the steps, each reading
    repeated for its step's seconds, a step over the pause limit skipped."""
    points = []
    latest = -np.inf
    for t, v in zip(track.time.tolist(), track.columns[column].tolist(), strict=True):
        if t == t:  # not NaN
            latest = max(latest, t)  # a step back in time is no step
            points.append((latest, v))
    t0 = points[0][0]
    if trim:
        known = [i for i, (_, v) in enumerate(points) if v == v]
        points = points[known[0]:known[-1] + 1]
    steps = [b[0] - a[0] for a, b in zip(points, points[1:], strict=False)]
    forward = sorted(s for s in steps if s > 0)
    middle = len(forward) // 2
    median = (forward[middle] if len(forward) % 2 else
              (forward[middle - 1] + forward[middle]) / 2)
    pause = max(seconds.PAUSE_S, seconds.PAUSE_STEPS * median)
    values, elapsed = [], []
    for (t, v), step in zip(points, steps, strict=False):
        if step <= pause:
            for k in range(int(step)):
                values.append(v)
                elapsed.append(t - t0 + k)
    return values, elapsed


def ride_fit(start: datetime, *, watts: float | None, seconds: int = 1800,
             hr: float | None = 140.0) -> bytes:
    """A FIT ride of `seconds` + 1 points a second apart from `start`, heading east at
    8 m/s, holding `watts` and `hr` (None: not recorded) throughout: its normalized power
    is `watts` and its power grid `seconds` long, so its TSS is worked by hand."""
    from tests import fitwriter

    i = np.arange(seconds + 1, dtype=np.float64)
    points = {"time": start.timestamp() + i, "lat": np.full(len(i), 46.0),
              "lon": 14.5 + i * 8 / (111_320 * math.cos(math.radians(46.0)))}
    if watts is not None:
        points["power"] = np.full(len(i), watts)
    if hr is not None:
        points["heart_rate"] = np.full(len(i), hr)
    return fitwriter.activity(points)
