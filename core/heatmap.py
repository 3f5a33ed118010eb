"""A user's heatmap: how many of their activities passed through each pixel of one frame
around all of them, and that grid drawn as a PNG (the standard library's zlib, no imaging
package: a PNG is a few chunks around deflated rows).

Routes (the `route` deriver's simplified points, never tracks) are drawn in Web Mercator
onto a grid of at most TILES x TILES tiles of TILE_PX pixels, framed by tiles around the
routes (`build`). An
activity counts once per pixel, however often it crossed it. Adding an activity whose
route lies inside the frame is exact (`add`); one outside it needs a new frame (`fits`
says so and the caller rebuilds).
"""

from __future__ import annotations

import json
import math
import struct
import zlib
from dataclasses import dataclass

import numpy as np

#: Pixels a side of one Web Mercator tile of the grid, and tiles at most each way.
TILE_PX = 256
TILES = 2
#: Deepest zoom (a tile about 40 m a side at zoom 20): one short walk is not a few pixels.
MAX_ZOOM = 20
#: Web Mercator's latitude limit.
MAX_LAT = 85.0511


@dataclass
class Grid:
    """Counts per pixel over a frame (x0, y0, x1, y1 in Mercator units, 0..1)."""

    frame: tuple[float, float, float, float]
    counts: np.ndarray  # uint32, (height, width)

    def dumps(self) -> bytes:
        head = json.dumps({"frame": self.frame, "shape": self.counts.shape}).encode()
        return struct.pack("<I", len(head)) + head + zlib.compress(
            self.counts.astype("<u4").tobytes())

    @classmethod
    def loads(cls, blob: bytes) -> Grid:
        (n,) = struct.unpack_from("<I", blob)
        head = json.loads(blob[4:4 + n])
        counts = np.frombuffer(zlib.decompress(blob[4 + n:]), dtype="<u4").reshape(head["shape"])
        return cls(frame=tuple(head["frame"]), counts=counts.copy())


def mercator(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Degrees -> Web Mercator x, y in 0..1 (y grows southwards, as image rows do)."""
    lat = np.clip(lat, -MAX_LAT, MAX_LAT)
    x = (lon + 180.0) / 360.0
    y = (1 - np.log(np.tan(np.radians(lat)) + 1 / np.cos(np.radians(lat))) / math.pi) / 2
    return x, y


def build(routes: list) -> Grid | None:
    """The grid of these routes (each [[lat, lon], ...] or an (n, 2) array); None when none
    has points.

    The frame is made of Web Mercator tiles: at the deepest zoom where the routes span at
    most TILES tiles each way, those tiles. It depends only on the extent, and a route
    inside it leaves it unchanged (the deepest such zoom and its tiles stay the same), so
    a grid merged route by route equals the grid built from all of them at once.
    """
    points = [np.asarray(r, dtype=float).reshape(-1, 2) for r in routes if len(r)]
    if not points:
        return None
    every = np.concatenate(points)
    x, y = mercator(every[:, 0], every[:, 1])
    zoom, first, last = _tiles(float(x.min()), float(x.max()), float(y.min()), float(y.max()))
    scale = 2.0 ** -zoom
    frame = (first[0] * scale, first[1] * scale, (last[0] + 1) * scale, (last[1] + 1) * scale)
    shape = ((last[1] - first[1] + 1) * TILE_PX, (last[0] - first[0] + 1) * TILE_PX)
    grid = Grid(frame=frame, counts=np.zeros(shape, dtype=np.uint32))
    for route in points:
        add(grid, route)
    return grid


def _tiles(x0: float, x1: float, y0: float, y1: float
           ) -> tuple[int, tuple[int, int], tuple[int, int]]:
    """(zoom, first tile (x, y), last tile) of the deepest zoom at which the extent spans
    at most TILES tiles each way."""
    best = (0, (0, 0), (0, 0))
    for zoom in range(MAX_ZOOM + 1):
        n = 2 ** zoom
        first = (min(int(x0 * n), n - 1), min(int(y0 * n), n - 1))
        last = (min(int(x1 * n), n - 1), min(int(y1 * n), n - 1))
        if last[0] - first[0] >= TILES or last[1] - first[1] >= TILES:
            break
        best = (zoom, first, last)
    return best


def fits(grid: Grid, route) -> bool:
    """Whether the route lies inside the grid's frame (then `add` is exact)."""
    if len(route) == 0:
        return True
    points = np.asarray(route, dtype=float)
    x, y = mercator(points[:, 0], points[:, 1])
    x0, y0, x1, y1 = grid.frame
    return bool(x.min() >= x0 and x.max() <= x1 and y.min() >= y0 and y.max() <= y1)


def add(grid: Grid, route) -> None:
    """Count the pixels one route passes through (each once), sampling every line at under
    half a pixel."""
    if len(route) == 0:
        return
    points = np.asarray(route, dtype=float)
    x, y = mercator(points[:, 0], points[:, 1])
    height, width = grid.counts.shape
    x0, y0, x1, y1 = grid.frame
    px, py = (x - x0) / (x1 - x0) * width, (y - y0) / (y1 - y0) * height
    if len(px) > 1:
        steps = np.ceil(np.hypot(np.diff(px), np.diff(py)) * 2).astype(int) + 1
        share = np.concatenate([np.arange(s) / s for s in steps])
        first = np.repeat(np.arange(len(px) - 1), steps)
        px = np.concatenate([px[first] + share * (px[first + 1] - px[first]), px[-1:]])
        py = np.concatenate([py[first] + share * (py[first + 1] - py[first]), py[-1:]])
    cols = np.clip(px.astype(int), 0, width - 1)
    rows = np.clip(py.astype(int), 0, height - 1)
    cells = np.unique(rows * width + cols)
    grid.counts.reshape(-1)[cells] += 1


def png(grid: Grid | None) -> bytes:
    """The grid as an RGBA PNG: transparent where nobody went, from deep red to pale
    yellow as the count grows (log scale, so that a daily commute does not hide the rest)."""
    if grid is None:
        counts = np.zeros((1, 1), dtype=np.uint32)
    else:
        counts = grid.counts
    top = float(counts.max())
    heat = np.log1p(counts) / math.log1p(top) if top > 0 else np.zeros(counts.shape)
    rgba = np.zeros((*counts.shape, 4), dtype=np.uint8)
    rgba[..., 0] = np.where(counts > 0, 200 + 55 * heat, 0)
    rgba[..., 1] = np.where(counts > 0, 40 + 200 * heat, 0)
    rgba[..., 2] = np.where(counts > 0, 30 + 120 * heat ** 2, 0)
    rgba[..., 3] = np.where(counts > 0, 150 + 105 * heat, 0)
    return encode_png(rgba)


def encode_png(rgba: np.ndarray) -> bytes:
    """An (h, w, 4) uint8 array as PNG bytes: filter byte 0 on every row, one IDAT."""
    height, width, _ = rgba.shape
    rows = np.concatenate([np.zeros((height, 1), dtype=np.uint8),
                           rgba.reshape(height, width * 4)], axis=1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6)) + chunk(b"IEND", b""))
