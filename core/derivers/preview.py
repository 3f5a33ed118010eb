"""The `preview` deriver: an SVG thumbnail of the route, drawn here from the track alone.

No map tiles and nothing fetched: the route is projected equirectangularly (longitude
scaled by the cosine of the latitude, so shapes are not stretched) into a WIDTH × HEIGHT
viewBox, one path with a move-to per recorded segment (no line across a gap), a circle at
the start and a square at the finish. A track without GPS gets a small neutral image
saying there is no map.

The output is the SVG document as a str; it is stored as its UTF-8 bytes (`SVG` codec),
so the web serves the stored bytes as they are, with Content-Type image/svg+xml. The
document holds only numbers and fixed text, never anything from the upload.
"""

from __future__ import annotations

import numpy as np

from core.derivers import route
from core.derivers.base import Codec, Deriver
from core.track import Track

WIDTH, HEIGHT, MARGIN = 320, 200, 12
#: Enough points that simplification is invisible at this size.
MAX_POINTS = 800
#: Simplify to a fraction of a pixel: the eye cannot tell the difference.
TOLERANCE_PX = 0.3

LINE, START, FINISH, BACKGROUND = "#2563eb", "#16a34a", "#dc2626", "#f1f5f9"

SVG = Codec(dumps=lambda text: text.encode("utf-8"), loads=lambda data: data.decode("utf-8"))

_OPEN = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
         f'width="{WIDTH}" height="{HEIGHT}" role="img">')


def draw_preview(track: Track, *, join_many: bool = True) -> str:
    """Track -> the SVG document (str) (`join_many`: route.source_path's)."""
    points = _fitted(track, join_many=join_many)
    if points is None:
        return _no_map()
    xs, ys, starts = points
    path = " ".join(_path_part(xs[a:b], ys[a:b])
                    for a, b in zip(starts, [*starts[1:], len(xs)], strict=True))
    sx, sy, fx, fy = xs[0], ys[0], xs[-1], ys[-1]
    return "".join([
        _OPEN,
        '<title>Route of this activity, from the start (circle) '
        "to the finish (square)</title>",
        f'<rect width="{WIDTH}" height="{HEIGHT}" rx="8" fill="{BACKGROUND}"/>',
        f'<path d="{path}" fill="none" stroke="{LINE}" stroke-width="2.5" '
        'stroke-linecap="round" stroke-linejoin="round"/>',
        f'<rect x="{fx - 4:.1f}" y="{fy - 4:.1f}" width="8" height="8" fill="{FINISH}" '
        'stroke="#fff" stroke-width="1.5"/>',
        f'<circle cx="{sx:.1f}" cy="{sy:.1f}" r="4.5" fill="{START}" stroke="#fff" '
        'stroke-width="1.5"/>',
        "</svg>",
    ])


def _fitted(track: Track, *, join_many: bool = True
            ) -> tuple[np.ndarray, np.ndarray, list[int]] | None:
    """The simplified route in viewBox pixels (y down, centred), or None without GPS."""
    source = route.source_path(track, join_many=join_many)
    if len(source.x) == 0:
        return None
    scale = _scale(source.x, source.y)
    # Simplify in metres to what is TOLERANCE_PX once scaled to fit.
    path, _ = route.simplified(source, max_points=MAX_POINTS, tolerance_m=TOLERANCE_PX / scale)
    x, y = (path.x - path.x.min()) * scale, (path.y - path.y.min()) * scale
    x += (WIDTH - x.max()) / 2
    y = HEIGHT - (y + (HEIGHT - y.max()) / 2)  # north up
    return x, y, list(path.starts)


def _scale(x: np.ndarray, y: np.ndarray) -> float:
    """Pixels per metre that fit the extent inside the margins; 1 for a single spot."""
    extent = [(np.ptp(x), WIDTH), (np.ptp(y), HEIGHT)]
    fits = [(pixels - 2 * MARGIN) / metres for metres, pixels in extent if metres > 0]
    return min(fits) if fits else 1.0


def _path_part(x: np.ndarray, y: np.ndarray) -> str:
    moves = [f"M{x[0]:.1f} {y[0]:.1f}"]
    moves += [f"L{a:.1f} {b:.1f}" for a, b in zip(x[1:].tolist(), y[1:].tolist(), strict=True)]
    return "".join(moves)


def _no_map() -> str:
    return "".join([
        _OPEN,
        '<title>No map for this activity</title>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" rx="8" fill="{BACKGROUND}"/>',
        f'<text x="{WIDTH / 2:g}" y="{HEIGHT / 2:g}" text-anchor="middle" '
        'dominant-baseline="middle" font-family="sans-serif" font-size="14" '
        'fill="#475569">No map for this activity</text>',
        "</svg>",
    ])


PREVIEW = Deriver(
    name="preview",
    version=1,
    needs=("track",),
    derive=draw_preview,
    codec=SVG,
)
