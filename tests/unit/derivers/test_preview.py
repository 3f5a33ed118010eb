"""The `preview` deriver: a well-formed SVG of the route, north up, undistorted, no gaps drawn."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from core.derivers import preview
from core.derivers.preview import PREVIEW
from core.track import Track
from tests.unit.derivers.tracks import ONE_DEGREE_M, T0, northward, wiggly, without_gps

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == f"0 0 {preview.WIDTH} {preview.HEIGHT}"
    return root


def path_points(root: ET.Element) -> list[list[tuple[float, float]]]:
    """The path's points, one list per move-to (a separately drawn line)."""
    d = root.find("svg:path", NS).get("d")
    lines = []
    for command, x, y in re.findall(r"([ML])\s*([-\d.]+)\s+([-\d.]+)", d):
        if command == "M":
            lines.append([])
        lines[-1].append((float(x), float(y)))
    return lines


def test_preview_is_an_svg_with_a_title_a_path_and_markers():
    root = parse(PREVIEW.derive(wiggly(20_000)))
    assert root.find("svg:title", NS).text.startswith("Route of this activity")
    assert root.get("role") == "img"
    points = [p for line in path_points(root) for p in line]
    assert len(points) >= 2
    assert all(0 <= x <= preview.WIDTH and 0 <= y <= preview.HEIGHT for x, y in points)
    assert root.find("svg:circle", NS) is not None  # the start


def test_the_route_fills_the_box_inside_the_margins():
    points = [p for line in path_points(parse(PREVIEW.derive(wiggly(5000)))) for p in line]
    xs, ys = zip(*points, strict=True)
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    assert max(width / (preview.WIDTH - 2 * preview.MARGIN),
               height / (preview.HEIGHT - 2 * preview.MARGIN)) == pytest.approx(1, abs=0.01)


def test_north_is_up():
    (line,) = path_points(parse(PREVIEW.derive(northward(100))))
    assert line[-1][1] < line[0][1]  # y grows downwards in SVG


def test_a_square_stays_square_far_from_the_equator():
    # 1 km east, 1 km north, 1 km west at 60° N, where a degree of longitude is half as long.
    side_lat = 1000 / ONE_DEGREE_M
    side_lon = side_lat / math.cos(math.radians(60))
    lat = 60 + np.array([0, 0, side_lat, side_lat])
    lon = 10 + np.array([0, side_lon, side_lon, 0])
    track = Track(format="gpx", columns={"time": T0 + np.arange(4.0) * 300, "lat": lat,
                                         "lon": lon})
    (line,) = path_points(parse(PREVIEW.derive(track)))
    xs, ys = zip(*line, strict=True)
    assert max(xs) - min(xs) == pytest.approx(max(ys) - min(ys), rel=0.01)


def test_each_segment_is_drawn_on_its_own():
    track = northward(100, segment_starts=(0, 50))
    track.lon[50:] += 0.02
    lines = path_points(parse(PREVIEW.derive(track)))
    assert len(lines) == 2
    assert lines[0][-1][0] < lines[1][0][0]  # the second part lies east of the first


def test_a_track_without_gps_says_there_is_no_map():
    svg = PREVIEW.derive(without_gps())
    root = parse(svg)
    assert root.find("svg:title", NS).text == "No map for this activity"
    assert root.find("svg:text", NS).text == "No map for this activity"
    assert root.find("svg:path", NS) is None


def test_a_single_fix_is_drawn_as_a_spot():
    track = Track(format="gpx", columns={"time": np.array([T0]), "lat": np.array([46.0]),
                                         "lon": np.array([14.0])})
    root = parse(PREVIEW.derive(track))
    circle = root.find("svg:circle", NS)
    assert (float(circle.get("cx")), float(circle.get("cy"))) == (160.0, 100.0)


def test_the_stored_bytes_are_the_svg_document():
    svg = PREVIEW.derive(northward(10))
    stored = PREVIEW.codec.dumps(svg)
    assert stored.startswith(b"<svg ") and stored.decode("utf-8") == svg
    assert PREVIEW.codec.loads(stored) == svg


def test_a_long_track_gives_a_small_image():
    assert len(PREVIEW.codec.dumps(PREVIEW.derive(wiggly(100_000)))) < 20_000
