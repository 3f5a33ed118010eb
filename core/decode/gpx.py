"""GPX bytes -> Track: every track segment's points, with gpxpy as the reference parser."""

from __future__ import annotations

import codecs
import math
import re
from datetime import UTC, datetime

import gpxpy
import gpxpy.gpx
import numpy as np

from core import geo
from core.decode import DecodeError
from core.track import Track

_BOM = b"\xef\xbb\xbf"
_GPS_EPOCH = datetime(1980, 1, 6, tzinfo=UTC).timestamp()
# Entity declarations live in a DOCTYPE; the XML parser under gpxpy would expand them
# (billion laughs) or fetch them (external entities). Refused before anything parses, on
# the decoded text: a declared encoding such as UTF-7 can spell "<!" without those bytes.
_DECLARATION = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ENCODING = re.compile(rb"""\A<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")

#: Lower-case local name of an extension element -> track column. Garmin's
#: TrackPointExtension (gpxtpx:hr, gpxtpx:cad), Cluetrust gpxdata and others.
_EXTENSION_COLUMNS = {
    "hr": "hr",
    "heartrate": "hr",
    "cad": "cadence",
    "cadence": "cadence",
    "power": "power",
    "watts": "power",
    "speed": "speed",
}


def decode(content: bytes) -> Track:
    """GPX file bytes -> Track, or DecodeError (UnsafeXml, CorruptFile, NoPoints)."""
    document = _parse(content.removeprefix(_BOM))
    columns: dict[str, list[float]] = {
        name: [] for name in ("time", "lat", "lon", "ele", "speed", "hr", "cadence", "power")}
    starts: list[int] = []
    for track in document.tracks:
        for segment in track.segments:
            if segment.points:
                starts.append(len(columns["time"]))
            for point in segment.points:
                _add_point(columns, point)
    if not starts:
        raise DecodeError(_what_instead(document), code="NoPoints")
    arrays = {name: np.array(values, dtype=np.float64) for name, values in columns.items()}
    usable = geo.valid_positions(arrays["lat"], arrays["lon"])
    if not usable.any():
        raise DecodeError(f"This GPX file's {len(usable)} track points have no usable "
                          "coordinates.", code="NoPoints")
    arrays["lat"][~usable] = np.nan
    arrays["lon"][~usable] = np.nan
    return Track(format="gpx", sport=_sport(document), columns=arrays,
                 segment_starts=tuple(starts),
                 name=own_name([t.name for t in document.tracks] + [document.name]))


def _parse(content: bytes) -> gpxpy.gpx.GPX:
    text = _text(content)
    if _DECLARATION.search(text):
        raise DecodeError("This GPX file declares a DOCTYPE or entities, which Cairn refuses "
                          "to process for safety.", code="UnsafeXml")
    try:
        return gpxpy.parse(text)
    except gpxpy.gpx.GPXXMLSyntaxException as error:
        raise DecodeError(f"This GPX file is not well-formed XML ({error}).",
                          code="CorruptFile") from None
    except gpxpy.gpx.GPXException as error:
        raise DecodeError(f"This GPX file holds invalid values ({error}).",
                          code="CorruptFile") from None
    except MemoryError:
        raise  # not the file's corruption: the track deriver says so
    except Exception as error:  # gpxpy lets ValueError and friends through on odd input
        raise DecodeError(f"This GPX file cannot be read ({type(error).__name__}: {error}).",
                          code="CorruptFile") from None


def _text(content: bytes, *, kind: str = "GPX") -> str:
    """The document as text: UTF-8, or the encoding its XML declaration names."""
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _ENCODING.match(content.lstrip())
    try:
        if declared:
            return content.decode(codecs.lookup(declared.group(1).decode()).name)
    except (LookupError, UnicodeDecodeError):
        pass
    raise DecodeError(f"This {kind} file is not valid UTF-8 text, nor in the encoding its "
                      "XML declaration names.", code="CorruptFile")


def _add_point(columns: dict[str, list[float]], point: gpxpy.gpx.GPXTrackPoint) -> None:
    columns["time"].append(_epoch(point.time))
    columns["lat"].append(_number(point.latitude))
    columns["lon"].append(_number(point.longitude))
    columns["ele"].append(_number(point.elevation))
    extras = _extensions(point.extensions)
    speed = _number(point.speed)  # GPX 1.0 <speed>
    columns["speed"].append(speed if not math.isnan(speed) else extras.get("speed", math.nan))
    for name in ("hr", "cadence", "power"):
        columns[name].append(extras.get(name, math.nan))


def _extensions(elements: list) -> dict[str, float]:
    """Column -> value from a point's extension elements, matched by local tag name."""
    found: dict[str, float] = {}
    for element in elements:
        for child in element.iter():
            if not isinstance(child.tag, str):
                continue  # a comment or processing instruction
            local = child.tag.rpartition("}")[2].rpartition(":")[2].lower()
            column = _EXTENSION_COLUMNS.get(local)
            if column and column not in found:
                value = _number(child.text)
                if not math.isnan(value):
                    found[column] = value
    return found


def _epoch(moment: datetime | None) -> float:
    if moment is None:
        return math.nan
    if moment.tzinfo is None:  # GPX times are UTC; a missing "Z" does not make them local
        moment = moment.replace(tzinfo=UTC)
    try:
        seconds = moment.timestamp()
    except (OverflowError, ValueError, OSError):  # a year the time zone pushes out of range
        return math.nan
    # No receiver recorded a fix before GPS time began; such stamps are placeholders
    # (GPSBabel writes 1901-12-13, the smallest 32-bit time, for "unknown").
    return seconds if seconds >= _GPS_EPOCH else math.nan


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def own_name(names: list[str | None]) -> str | None:
    """The first of the file's names (its tracks', then its own) that is not blank,
    whitespace folded; core.titles judges whether it is a person's name."""
    for name in names:
        folded = " ".join(name.split()) if name else ""
        if folded:
            return folded[:255]
    return None


def _sport(document: gpxpy.gpx.GPX) -> str | None:
    for track in document.tracks:
        if track.type and track.type.strip():
            return track.type.strip().lower()
    return None


def _what_instead(document: gpxpy.gpx.GPX) -> str:
    """A sentence saying what a GPX file without track points holds instead."""
    held = []
    if document.routes:
        points = sum(len(route.points) for route in document.routes)
        routes = "a route" if len(document.routes) == 1 else f"{len(document.routes)} routes"
        held.append(f"{routes} ({_count(points, 'point')})" if points
                    else f"{routes} with no points")
    if document.waypoints:
        held.append(_count(len(document.waypoints), "waypoint"))
    if held:
        return f"This GPX file holds {' and '.join(held)} but no recorded track."
    if document.tracks:
        return "This GPX file holds a track with no points."
    return "This GPX file holds no track, route or waypoint."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
