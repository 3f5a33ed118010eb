"""Columns put onto a regular axis (time, distance, point index) without bridging gaps.

Shared by the `playback` and `charts` derivers; everything here is vectorised, so that a
100,000-point track resamples in milliseconds.
"""

from __future__ import annotations

import math

import numpy as np

#: Steps a person reads easily: seconds up to an hour, then whole hours.
NICE_SECONDS = (1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600)
#: Metres: 1, 2, 5, 10, 20, 50, ... 100 km.
NICE_METRES = tuple(m * 10**e for e in range(6) for m in (1, 2, 5))


def nice_step(span: float, *, max_count: int, finest: float = 0.0,
              steps: tuple[int, ...] = NICE_SECONDS) -> float:
    """The smallest of `steps` (else a multiple of the last) that covers `span` in at most
    `max_count` samples of `grid`, and is no finer than `finest`."""
    least = max(span / max(max_count - 2, 1), finest)
    for step in steps:
        if step >= least:
            return float(step)
    return float(math.ceil(least / steps[-1]) * steps[-1])


def spacing(x: np.ndarray) -> float:
    """The typical (median) forward step between consecutive known values; 0 if none."""
    steps = np.diff(x[np.isfinite(x)])
    steps = steps[steps > 0]
    return float(np.median(steps)) if len(steps) else 0.0


def grid(span: float, step: float) -> np.ndarray:
    """0, step, 2·step, ... below `span`, then `span`: strictly increasing, ends included."""
    return np.append(np.arange(0.0, span, step) if span > 0 else np.empty(0), span)


def interpolate(x: np.ndarray, values: np.ndarray, *, at: np.ndarray,
                segment: np.ndarray) -> np.ndarray:
    """`values` (known at increasing `x`) linearly interpolated at `at`; NaN where unknown.

    A sample between two known points of different segments is NaN: a restarted
    recording is shown as a gap, never as a straight line across it. `segment` numbers
    each point's segment.
    """
    known = np.isfinite(x) & np.isfinite(values)
    x, values, segment = x[known], values[known], segment[known]
    out = np.full(len(at), np.nan)
    if len(x) == 0:
        return out
    before = np.searchsorted(x, at, side="right") - 1
    exact = (before >= 0) & (x[np.clip(before, 0, None)] == at)
    out[exact] = values[before[exact]]
    inside = (before >= 0) & (before < len(x) - 1) & ~exact
    i = before[inside]
    width = x[i + 1] - x[i]
    bridged = (segment[i] == segment[i + 1]) & (width > 0)
    i, width, where = i[bridged], width[bridged], np.flatnonzero(inside)[bridged]
    share = (at[where] - x[i]) / width
    out[where] = values[i] + share * (values[i + 1] - values[i])
    return out


def bin_means(x: np.ndarray, values: np.ndarray, *, edges: np.ndarray,
              weights: np.ndarray | None = None) -> np.ndarray:
    """Mean (weighted) of the finite values whose x falls in each bin; NaN for empty bins."""
    known = np.isfinite(x) & np.isfinite(values) & (x >= edges[0]) & (x <= edges[-1])
    if weights is not None:
        known &= np.isfinite(weights) & (weights > 0)
    bins = len(edges) - 1
    index = np.clip(np.searchsorted(edges, x[known], side="right") - 1, 0, bins - 1)
    w = np.ones(np.count_nonzero(known)) if weights is None else weights[known]
    total = np.bincount(index, weights=w * values[known], minlength=bins)
    count = np.bincount(index, weights=w, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)


def keep_peak(means: np.ndarray, x: np.ndarray, values: np.ndarray, *,
              edges: np.ndarray, lowest: bool = False) -> None:
    """Put the highest of `values` (at a known x inside the edges) into its bin of `means`;
    with `lowest`, the lowest."""
    with np.errstate(invalid="ignore"):
        known = np.isfinite(x) & np.isfinite(values) & (x >= edges[0]) & (x <= edges[-1])
    if not known.any():
        return
    pick = np.argmin if lowest else np.argmax
    top = np.flatnonzero(known)[pick(values[known])]
    index = np.clip(np.searchsorted(edges, x[top], side="right") - 1, 0, len(means) - 1)
    means[index] = values[top]


def span(values: np.ndarray) -> float:
    """Largest minus smallest finite value; 0 when there are none."""
    known = values[np.isfinite(values)]
    return float(known.max() - known.min()) if len(known) else 0.0


def segment_numbers(starts: tuple[int, ...], n: int) -> np.ndarray:
    """Each point's segment number (0, 1, ...) from the segments' first indices."""
    numbers = np.zeros(n, dtype=np.int64)
    inner = [s for s in starts if 0 < s < n]
    numbers[inner] = 1
    return np.cumsum(numbers)


def to_list(values: np.ndarray, *, digits: int) -> list[float | int | None]:
    """Rounded JSON-able list, NaN as null; `digits=0` gives integers."""
    rounded = np.round(values, digits).tolist()
    if digits == 0:
        return [None if v != v else int(v) for v in rounded]
    return [None if v != v else v for v in rounded]
