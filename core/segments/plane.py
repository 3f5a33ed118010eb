"""Local planar geometry for matching: a segment's checkpoints, distances to polylines."""

from __future__ import annotations

import numpy as np

#: Points whose distance to a polyline is computed at once: bounds the temporary
#: matrices (points x edges) to a few megabytes.
CHUNK_CELLS = 500_000


def checkpoints(x: np.ndarray, y: np.ndarray, *, spacing_m: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Points along the polyline (x, y) from its first point to its last, evenly spaced no
    more than `spacing_m` apart (both ends included)."""
    along = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    count = max(int(np.ceil(along[-1] / spacing_m)), 1) + 1
    at = np.linspace(0.0, along[-1], count)
    return np.interp(at, along, x), np.interp(at, along, y)


def to_steps(px: np.ndarray, py: np.ndarray, x: np.ndarray, y: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """(distance, fraction) from each point (px, py) to each step of the polyline (x, y):
    the distance to the nearest point of the step and how far along the step it lies
    (0 at its first point, 1 at its last). Shape: px.shape + (len(x) - 1,)."""
    px, py = np.asarray(px)[..., None], np.asarray(py)[..., None]
    dx, dy = np.diff(x), np.diff(y)
    rx, ry = px - x[:-1], py - y[:-1]
    length2 = dx * dx + dy * dy
    with np.errstate(invalid="ignore", divide="ignore"):
        # A step of no length (a repeated point) is nearest at its one point.
        fraction = np.where(length2 > 0, np.clip((rx * dx + ry * dy) / length2, 0.0, 1.0),
                            0.0)
    return np.hypot(rx - fraction * dx, ry - fraction * dy), fraction


def to_path(px: np.ndarray, py: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance from each point (px, py) to the polyline (x, y), in chunks of points."""
    out = np.empty(len(px))
    chunk = max(CHUNK_CELLS // max(len(x) - 1, 1), 1)
    for start in range(0, len(px), chunk):
        part = slice(start, start + chunk)
        out[part] = to_steps(px[part], py[part], x, y)[0].min(axis=1)
    return out
