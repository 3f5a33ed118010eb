"""A user's heatmap: how many of their activities passed through each pixel, per region,
and each region's grid drawn as a PNG (the standard library's zlib, no imaging package: a
PNG is a few chunks around deflated rows).

Routes (the `route` deriver's simplified points, never tracks) fall into regions: places
far apart (a home town and a holiday island) are drawn separately, so that neither is a
speck in a frame around both. A region is a connected group of REGION_ZOOM Web Mercator
tiles (about 150 km at the equator) that routes pass through, neighbours included, so it
does not depend on the order routes come in. Each region's routes are drawn in Web
Mercator onto a grid of at most TILES x TILES tiles of TILE_PX pixels, framed by tiles
around them. A route counts once per pixel, however often it crossed it. Adding a route
whose region cells and points lie inside one region is exact (`add`); any other needs new
regions (`fits` says so and the caller rebuilds).
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
#: The zoom of the tiles regions are made of (a tile spans 1/256 of the world's width).
REGION_ZOOM = 8


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


@dataclass
class Region:
    """One region's grid, the REGION_ZOOM tiles its routes pass through, and how many
    routes it holds."""

    grid: Grid
    cells: frozenset[tuple[int, int]]
    routes: int

    @property
    def bounds(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """((south, west), (north, east)) of the grid's frame, in degrees."""
        x0, y0, x1, y1 = self.grid.frame
        return (_lat(y1), x0 * 360 - 180), (_lat(y0), x1 * 360 - 180)

    def focus(self, share: float = 0.02) -> tuple[tuple[float, float], tuple[float, float]]:
        """((south, west), (north, east)) around where most of the region's activity is:
        the pixels crossed more than once when there are any (a one-off long trip is left
        out, however long), without the outermost `share` of their crossings each side."""
        counts = self.grid.counts.astype(np.float64)
        if counts.max() > 1:
            counts[counts < 2] = 0
        height, width = counts.shape
        x0, y0, x1, y1 = self.grid.frame

        def span(along: np.ndarray) -> tuple[int, int]:
            cumulative = np.cumsum(along) / along.sum()
            return (int(np.searchsorted(cumulative, share, side="right")),
                    int(np.searchsorted(cumulative, 1 - share, side="left")) + 1)

        if not counts.any():
            return self.bounds
        (top, bottom), (left, right) = span(counts.sum(axis=1)), span(counts.sum(axis=0))
        fx0, fx1 = x0 + (x1 - x0) * left / width, x0 + (x1 - x0) * right / width
        fy0, fy1 = y0 + (y1 - y0) * top / height, y0 + (y1 - y0) * bottom / height
        return (_lat(fy1), fx0 * 360 - 180), (_lat(fy0), fx1 * 360 - 180)

    @property
    def most(self) -> int:
        """The highest count of any pixel (the legend's top)."""
        return int(self.grid.counts.max())


@dataclass
class Heat:
    """Every region of a user's heatmap, the one with the most routes first."""

    regions: list[Region]

    def ordered(self) -> list[Region]:
        return sorted(self.regions, key=lambda r: (-r.routes, r.grid.frame))

    def dumps(self) -> bytes:
        parts = [_pack({"cells": sorted(r.cells), "routes": r.routes}) + _pack(r.grid.dumps())
                 for r in self.ordered()]
        return struct.pack("<I", len(parts)) + b"".join(parts)

    @classmethod
    def loads(cls, blob: bytes) -> Heat:
        (n,), at = struct.unpack_from("<I", blob), 4
        regions = []
        for _ in range(n):
            head, at = _unpack(blob, at)
            grid, at = _unpack(blob, at)
            meta = json.loads(head)
            regions.append(Region(grid=Grid.loads(grid), routes=meta["routes"],
                                  cells=frozenset(tuple(c) for c in meta["cells"])))
        return cls(regions=regions)


def place(bounds) -> str:
    """Where a region is, in words: "around 46.0° N, 14.5° E" (its centre)."""
    (south, west), (north, east) = bounds
    lat, lon = (south + north) / 2, (west + east) / 2
    return (f"around {abs(lat):.1f}° {'N' if lat >= 0 else 'S'}, "
            f"{abs(lon):.1f}° {'E' if lon >= 0 else 'W'}")


def _pack(value) -> bytes:
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    return struct.pack("<I", len(data)) + data


def _unpack(blob: bytes, at: int) -> tuple[bytes, int]:
    (n,) = struct.unpack_from("<I", blob, at)
    return blob[at + 4:at + 4 + n], at + 4 + n


def _lat(y: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))


def build(routes: list) -> Heat | None:
    """The regions of these routes (each [[lat, lon], ...] or an (n, 2) array), each with
    its grid; None when no route has points."""
    points = [np.asarray(r, dtype=float).reshape(-1, 2) for r in routes if len(r)]
    if not points:
        return None
    cells = [_cells(p) for p in points]
    parent: dict[tuple[int, int], tuple[int, int]] = {}

    def root(cell):
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    for route_cells in cells:
        for cell in route_cells:
            parent.setdefault(cell, cell)
        first = root(next(iter(route_cells)))
        for cell in route_cells:
            parent[root(cell)] = first
    for x, y in list(parent):
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if (x + dx, y + dy) in parent:
                    parent[root((x + dx, y + dy))] = root((x, y))
    groups: dict[tuple[int, int], list[int]] = {}
    for index, route_cells in enumerate(cells):
        groups.setdefault(root(next(iter(route_cells))), []).append(index)
    regions = [Region(grid=_grid([points[i] for i in members]), routes=len(members),
                      cells=frozenset().union(*(cells[i] for i in members)))
               for members in groups.values()]
    return Heat(regions=Heat(regions=regions).ordered())


def _cells(route: np.ndarray) -> frozenset[tuple[int, int]]:
    """The REGION_ZOOM tiles a route passes through (its lines sampled, not only its
    points, so that a long straight line between two far points crosses what it crosses)."""
    x, y = mercator(route[:, 0], route[:, 1])
    n = 2 ** REGION_ZOOM
    px, py = _sample(x * n, y * n)
    cols = np.clip(px.astype(int), 0, n - 1)
    rows = np.clip(py.astype(int), 0, n - 1)
    return frozenset(zip(cols.tolist(), rows.tolist(), strict=True))


def _grid(routes: list[np.ndarray]) -> Grid:
    """The grid of one region's routes.

    The frame is made of Web Mercator tiles: at the deepest zoom where the routes span at
    most TILES tiles each way, those tiles. It depends only on the extent, and a route
    inside it leaves it unchanged (the deepest such zoom and its tiles stay the same), so
    a grid merged route by route equals the grid built from all of them at once.
    """
    every = np.concatenate(routes)
    x, y = mercator(every[:, 0], every[:, 1])
    zoom, first, last = _tiles(float(x.min()), float(x.max()), float(y.min()), float(y.max()))
    scale = 2.0 ** -zoom
    frame = (first[0] * scale, first[1] * scale, (last[0] + 1) * scale, (last[1] + 1) * scale)
    shape = ((last[1] - first[1] + 1) * TILE_PX, (last[0] - first[0] + 1) * TILE_PX)
    grid = Grid(frame=frame, counts=np.zeros(shape, dtype=np.uint32))
    for route in routes:
        _draw(grid, route)
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


def _inside(grid: Grid, route) -> bool:
    points = np.asarray(route, dtype=float)
    x, y = mercator(points[:, 0], points[:, 1])
    x0, y0, x1, y1 = grid.frame
    return bool(x.min() >= x0 and x.max() <= x1 and y.min() >= y0 and y.max() <= y1)


def _home(heat: Heat, route) -> Region | None:
    """The region a route can be added to exactly: it passes only through that region's
    cells (so no regions join) and lies inside its frame (so the frame stays)."""
    cells = _cells(np.asarray(route, dtype=float).reshape(-1, 2))
    for region in heat.regions:
        if cells <= region.cells and _inside(region.grid, route):
            return region
    return None


def fits(heat: Heat, route) -> bool:
    """Whether `add` is exact for this route (else build the heatmap again)."""
    return len(route) == 0 or _home(heat, route) is not None


def add(heat: Heat, route) -> None:
    """Draw one more route into its region; only for a route that `fits`."""
    if len(route) == 0:
        return
    region = _home(heat, route)
    if region is None:
        raise ValueError("the route does not fit the heatmap's regions; build it again")
    _draw(region.grid, route)
    region.routes += 1


def _sample(px: np.ndarray, py: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points along the lines between consecutive points, under half a unit apart."""
    if len(px) < 2:
        return px, py
    steps = np.ceil(np.hypot(np.diff(px), np.diff(py)) * 2).astype(int) + 1
    share = np.concatenate([np.arange(s) / s for s in steps])
    first = np.repeat(np.arange(len(px) - 1), steps)
    return (np.concatenate([px[first] + share * (px[first + 1] - px[first]), px[-1:]]),
            np.concatenate([py[first] + share * (py[first + 1] - py[first]), py[-1:]]))


def _draw(grid: Grid, route) -> None:
    """Count the pixels one route passes through (each once)."""
    points = np.asarray(route, dtype=float)
    x, y = mercator(points[:, 0], points[:, 1])
    height, width = grid.counts.shape
    x0, y0, x1, y1 = grid.frame
    px, py = _sample((x - x0) / (x1 - x0) * width, (y - y0) / (y1 - y0) * height)
    cols = np.clip(px.astype(int), 0, width - 1)
    rows = np.clip(py.astype(int), 0, height - 1)
    cells = np.unique(rows * width + cols)
    grid.counts.reshape(-1)[cells] += 1


def png(heat: Heat | Grid | None, region: int = 0) -> bytes:
    """A region's grid (the one with the most routes unless told) as an RGBA PNG:
    transparent where nobody went, from deep red to pale yellow as the count grows (log
    scale, so that a daily commute does not hide the rest). Nothing: a 1x1 blank."""
    if isinstance(heat, Heat):
        ordered = heat.ordered()
        heat = ordered[region].grid if 0 <= region < len(ordered) else None
    counts = heat.counts if heat is not None else np.zeros((1, 1), dtype=np.uint32)
    top = float(counts.max())
    heat_share = np.log1p(counts) / math.log1p(top) if top > 0 else np.zeros(counts.shape)
    rgba = np.zeros((*counts.shape, 4), dtype=np.uint8)
    for channel, (low, high) in enumerate(zip(RAMP[0], RAMP[1], strict=True)):
        rgba[..., channel] = np.where(counts > 0, low + (high - low) * heat_share, 0)
    return encode_png(rgba)


#: The colours (RGBA) of a pixel one route crossed and of the most crossed one; the legend
#: (cairn.css, .heat-legend) draws the same ramp.
RAMP = ((180, 20, 20, 190), (255, 230, 60, 255))


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
