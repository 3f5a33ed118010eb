"""Douglas–Peucker line simplification on a point budget, segment by segment."""

from __future__ import annotations

import heapq

import numpy as np


def douglas_peucker(x: np.ndarray, y: np.ndarray, *, starts: tuple[int, ...],
                    max_points: int, tolerance: float) -> tuple[np.ndarray, float]:
    """(sorted indices of the points to keep, the largest distance left) of planar points.

    1. Every segment's first and last points are kept (`starts` indexes each segment's
       first point), so no kept span crosses from one segment into the next.
    2. The span whose farthest point lies farthest from its chord is split at that point,
       repeatedly (a heap, not recursion): the budget goes where the shape needs it.
    3. Stop when `max_points` are kept or no point is farther than `tolerance`.
    Every point then lies within the returned distance of the simplified line.
    """
    bounds = [*starts, len(x)]
    spans = [(a, b - 1) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
    keep = {i for span in spans for i in span}
    heap: list[tuple[float, int, int, int]] = []
    for first, last in spans:
        _push(heap, x, y, first, last)
    while heap and len(keep) < max_points and -heap[0][0] > tolerance:
        _, first, last, split = heapq.heappop(heap)
        keep.add(split)
        _push(heap, x, y, first, split)
        _push(heap, x, y, split, last)
    error = -heap[0][0] if heap else 0.0
    return np.array(sorted(keep), dtype=np.int64), max(error, 0.0)


def distances_to_chord(x: np.ndarray, y: np.ndarray, first: int, last: int) -> np.ndarray:
    """Distance of each point strictly between `first` and `last` to the chord joining them.

    The distance to the chord as a line segment, not an infinite line: a loop that ends
    where it began has a chord of length zero, and its points are judged by their
    distance to that point.
    """
    dx, dy = x[last] - x[first], y[last] - y[first]
    px, py = x[first + 1:last] - x[first], y[first + 1:last] - y[first]
    length2 = dx * dx + dy * dy
    along = np.clip((px * dx + py * dy) / length2, 0.0, 1.0) if length2 > 0 else 0.0
    return np.hypot(px - along * dx, py - along * dy)


def _push(heap: list, x: np.ndarray, y: np.ndarray, first: int, last: int) -> None:
    if last - first < 2:
        return
    distances = distances_to_chord(x, y, first, last)
    farthest = int(np.argmax(distances))
    heapq.heappush(heap, (-float(distances[farthest]), first, last, first + 1 + farthest))
