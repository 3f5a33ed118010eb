"""gpxpy's reading of a parsed GPX tree, mirrored for core/decode/fastgpx.py.

gpxpy converts every field it knows (a waypoint's <sat>, a route's <number>, the
metadata's bounds), and one bad value makes it refuse the whole file. The checks below
come from gpxpy's own field lists and converters, so that fastgpx refuses (hands back to
the reference) exactly where gpxpy would. The element structure follows
gpxpy/gpxfield.py: `find` reads the first child of a name, lists read direct children.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable

import numpy as np
from gpxpy import gpx as gpxpy_gpx
from gpxpy import gpxfield

from core.decode import Unsupported, gpxtime

Check = Callable[[str | None], object]


def _checks(fields: list) -> dict[str, Check]:
    """Tag -> what gpxpy does with that child's text (GPXField.from_xml after `find`)."""
    checks = {}
    for field in fields:
        if not isinstance(field, gpxfield.GPXField) or not field.tag:
            continue
        if field.type_converter is None and not field.possible:
            continue  # plain text: nothing to refuse
        if isinstance(field.type_converter, gpxfield.TimeConverter):
            continue  # gpxpy turns an unreadable time into None
        checks[field.tag] = _checker(field)
    return checks


def _checker(field: gpxfield.GPXField) -> Check:
    converter, possible = field.type_converter, field.possible

    def check(text: str | None) -> object:
        if text is None:
            return None
        value = converter.from_string(text) if converter else text
        if possible and value not in possible:
            raise ValueError(f"<{field.tag}> {value!r} is not one of {possible}")
        return value

    return check


POINT_11 = _checks(gpxpy_gpx.GPX_11_POINT_FIELDS)  # every point of a GPX 1.1 file
POINT_10 = _checks(gpxpy_gpx.GPX_10_POINT_FIELDS)  # waypoints and route points of GPX 1.0
TRKPT_10 = _checks(gpxpy_gpx.GPX_TRACK_POINT_FIELDS)  # track points of GPX 1.0
#: Checks a track point needs whatever the version, which is known only at the end.
TRKPT_BOTH = {tag: check for tag, check in POINT_11.items() if TRKPT_10.get(tag) is not None}
NUMBER = _checker(gpxfield.GPXField("number", type=gpxfield.INT_TYPE))  # trk and rte


class Points:
    """What gpx.py takes from each track point, collected column by column."""

    def __init__(self) -> None:
        self.columns = {name: array("d") for name in COLUMNS}
        self.times: list[str | bytes | None] = []  # <time> texts not yet converted
        self.deferred: list[tuple[str, str | None]] = []  # checks only one version makes
        self.elements: list = []  # the trkpt elements of the tree, in document order
        self.counts: list[int] | None = None  # gpxregex: points each element stands for
        self.skeleton: str | None = None  # gpxregex: the text, points left out

    def extend(self, name: str, values) -> None:
        self.columns[name].frombytes(np.asarray(values, dtype=np.float64).tobytes())

    def add_times(self, texts: list) -> None:
        self.times += texts
        if len(self.times) >= 4096:
            self.flush_times()

    def flush_times(self) -> None:
        """Convert pending <time> texts in bulk (and keep 8 bytes a point, not a str)."""
        self.extend("time", gpxtime.epochs(self.times))
        self.times = []

    def arrays(self, *, v11: bool) -> dict[str, np.ndarray]:
        """Track columns as gpx.py fills them for this GPX version (sharing memory)."""
        self.flush_times()
        arrays = {name: np.frombuffer(self.columns[name], dtype=np.float64)
                  for name in ("time", "lat", "lon", "ele")}
        if v11:  # 1.1 points have no <speed> and read their extensions
            for name in ("hr", "cadence", "power"):
                arrays[name] = np.frombuffer(self.columns[name], dtype=np.float64)
            arrays["speed"] = np.frombuffer(self.columns["ext_speed"], dtype=np.float64)
        else:  # 1.0 points have <speed> and no extensions
            arrays["speed"] = np.frombuffer(self.columns["speed"], dtype=np.float64)
        return arrays


#: Per point: position, <ele>, GPX 1.0's <speed>, and what the extensions give.
COLUMNS = ("time", "lat", "lon", "ele", "speed", "hr", "cadence", "power", "ext_speed")


def floats(texts: list[str | None], *, attribute: bool = False) -> np.ndarray:
    """text_float over many texts at once. An element's "" is ElementTree's None (empty
    element); an attribute's "" is a value float() refuses, as gpxpy does."""
    if not attribute:
        texts = [text or b"nan" for text in texts]
    # float() skips the whitespace around a number itself, as strip() then float() would.
    values = np.array(list(map(float, texts)), dtype=np.float64)
    values[~np.isfinite(values)] = np.nan
    return values


def lenient_float(text: str | None) -> float:
    """<speed> as GPX 1.0 reads it; a bad one fails the deferred check instead."""
    try:
        return text_float(text)
    except ValueError:
        return math.nan


def text_float(text: str | None) -> float:
    """gpxpy's FloatConverter, then gpx._number: NaN for a missing or non-finite value."""
    return math.nan if text is None else number(float(text.strip()))


def number(value: float) -> float:
    return value if math.isfinite(value) else math.nan


def check_document(root, *, v11: bool) -> None:
    """Raise where gpxpy would refuse anything but track points (which fastgpx checks)."""
    container = root.find("metadata") if v11 else root
    bounds = container.find("bounds") if container is not None else None
    if bounds is not None:
        for name in ("minlat", "maxlat", "minlon", "maxlon"):
            value = bounds.get(name)
            if value is not None:
                float(value.strip())
    points = POINT_11 if v11 else POINT_10
    for child in root:
        if child.tag == "wpt":
            check_point(child, points)
        elif child.tag == "rte":
            _check_number(child)
            for point in child:
                if point.tag == "rtept":
                    check_point(point, points)
        elif child.tag == "trk":
            _check_number(child)


def check_point(point, checks: dict[str, Check]) -> None:
    float(point.get("lat").strip())  # mandatory: a missing one fails too
    float(point.get("lon").strip())
    for tag, check in checks.items():
        child = point.find(tag)
        if child is not None:
            check(child.text)


def _check_number(element) -> None:
    child = element.find("number")
    if child is not None:
        NUMBER(child.text)


def track_points(root, points: list, counts: list[int] | None, *,
                 v11: bool) -> tuple[list[int], str | None]:
    """gpxpy's trk/trkseg/trkpt walk -> (segment starts, sport), after checking that the
    trkpt elements it reaches are exactly `points`, in order. Element k stands for
    counts[k] points (one each without counts)."""
    starts, index, sport, n = [], 0, None, 0
    for track in root:
        if track.tag != "trk":
            continue
        kind = track.find("type") if v11 else None  # GPX 1.0 tracks have no type
        if sport is None and kind is not None and kind.text and kind.text.strip():
            sport = kind.text.strip().lower()
        for segment in track:
            if segment.tag != "trkseg":
                continue
            first = n
            for point in segment:
                if point.tag != "trkpt":
                    continue
                if index >= len(points) or points[index] is not point:
                    raise Unsupported("a trkpt outside trk/trkseg")
                n += counts[index] if counts else 1
                index += 1
            if n > first:
                starts.append(first)
    if index != len(points):
        raise Unsupported("a trkpt outside trk/trkseg")
    return starts, sport

