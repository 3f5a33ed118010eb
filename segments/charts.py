"""The segment page's drawings, made on the server as SVG (no script, no inline style: the
pages' policy allows neither): the efforts' elapsed times over the days they were ridden,
the elevation along the segment, and the segment's route for when the map cannot be
drawn. Labels are HTML around them, so they stay readable when the drawing shrinks."""

from __future__ import annotations

import math
from datetime import date

from activities import display

#: The plots' own units (viewBox); CSS stretches them to any width.
WIDTH, HEIGHT = 200, 100


def _x(value: float, low: float, high: float) -> float:
    return round((value - low) / (high - low) * WIDTH, 2) if high > low else WIDTH / 2


def _y(value: float, low: float, high: float) -> float:
    return round(HEIGHT - (value - low) / (high - low) * HEIGHT, 2) if high > low \
        else HEIGHT / 2


def efforts(rows: list[tuple[date, float]]) -> dict | None:
    """Elapsed seconds by day, oldest first; None with fewer than two efforts (one dot
    says nothing a table row does not)."""
    if len(rows) < 2:
        return None
    rows = sorted(rows)
    first, last = rows[0][0].toordinal(), rows[-1][0].toordinal()
    fast, slow = min(r[1] for r in rows), max(r[1] for r in rows)
    points = [(_x(d.toordinal(), first, last), _y(s, fast, slow)) for d, s in rows]
    return {"width": WIDTH, "height": HEIGHT,
            "line": " ".join(f"{x},{y}" for x, y in points),
            "dots": [{"x": x, "y": y} for x, y in points],
            "first": f"{rows[0][0]:%-d %b %Y}", "last": f"{rows[-1][0]:%-d %b %Y}",
            "fast": display.duration(fast), "slow": display.duration(slow)}


def elevation(points: list[list], distance_m: float, units: str) -> dict | None:
    """The elevation along the segment (points [lat, lon, ele], spread evenly over its
    distance); None when fewer than two points have one."""
    ele = [p[2] for p in points]
    known = [e for e in ele if e is not None]
    if len(known) < 2:
        return None
    low, high = min(known), max(known)
    n = len(ele) - 1
    line = [(round(i / n * WIDTH, 2), _y(e, low, high)) for i, e in enumerate(ele)
            if e is not None]
    area = f"{line[0][0]},{HEIGHT} " + " ".join(f"{x},{y}" for x, y in line) \
        + f" {line[-1][0]},{HEIGHT}"
    return {"width": WIDTH, "height": HEIGHT, "line": " ".join(f"{x},{y}" for x, y in line),
            "area": area, "low": display.elevation(low, units),
            "high": display.elevation(high, units),
            "distance": display.distance(distance_m, units)}


def route(points: list[list], bbox: dict) -> dict | None:
    """The route drawn in its bounding box (longitudes shrunk by the latitude's cosine,
    so that it keeps its shape), for the page without script or map."""
    if len(points) < 2:
        return None
    squeeze = math.cos(math.radians((bbox["min_lat"] + bbox["max_lat"]) / 2))
    span_x = (bbox["max_lon"] - bbox["min_lon"]) * squeeze
    span_y = bbox["max_lat"] - bbox["min_lat"]
    span = max(span_x, span_y) or 1e-9
    size, pad = 300, 12
    width = round(span_x / span * size) + 2 * pad
    height = round(span_y / span * size) + 2 * pad
    at = [(round(pad + (p[1] - bbox["min_lon"]) * squeeze / span * size, 1),
           round(pad + (bbox["max_lat"] - p[0]) / span * size, 1)) for p in points]
    return {"width": width, "height": height,
            "d": "M" + " L".join(f"{x} {y}" for x, y in at),
            "start": {"x": at[0][0], "y": at[0][1]},
            # The finish square's corner: 16 wide, centred on the last point.
            "end": {"x": round(at[-1][0] - 8, 1), "y": round(at[-1][1] - 8, 1)}}
