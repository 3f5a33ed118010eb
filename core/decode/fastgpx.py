"""GPX bytes -> Track, fast: the same Track as core/decode/gpx.py, or Unsupported.

gpxpy builds the whole element tree, then an object per point with two dozen converted
fields: about 40 µs a point. This reader decodes the text and refuses DOCTYPEs with
gpx.py's own code, then reads the track points one of two ways:

* gpxregex: points in their common shape are read from the text in bulk, and the rest
  of the document (each point emptied) is parsed as below;
* otherwise the text streams through the same XML parser gpxpy uses (ElementTree over
  expat, when lxml is absent) and each track point is read at its end tag and emptied.

Either way, what is left of the tree is then walked the way gpxpy walks it, converting
every field gpxpy converts (gpxfields.py). Where gpxpy would refuse the file, or where
this reader cannot vouch for the result (an XML error, no usable track point, a trkpt
outside trk/trkseg), it raises Unsupported and core.decode lets the reference decide.
"""

from __future__ import annotations

import math
import re
from xml.etree.ElementTree import XMLPullParser

import gpxpy.parser

from core import geo
from core.decode import Unsupported, gpx, gpxfields, gpxregex
from core.decode.gpxfields import Points, lenient_float, number, text_float
from core.track import Track

# gpxpy deletes the first default namespace declaration from the text before parsing, so
# that GPX elements have bare tags (gpxpy/parser.py); the same span is skipped here.
_DEFAULT_NAMESPACE = re.compile(r"""\sxmlns=(['"])[^'"]+\1""")
_DECLARED = re.compile(rb"""xmlns=(['"])[^'"]+\1""")
#: What \s matches in a str pattern: every character str.isspace() accepts.
SPACES = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004"
          "\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
_SPACES_UTF8 = tuple(space.encode() for space in SPACES)
_CHUNK = 1 << 20


def decode(content: bytes) -> Track:
    """GPX file bytes -> Track, DecodeError (UnsafeXml, CorruptFile) as gpx.py gives it,
    or Unsupported."""
    if gpxpy.parser.library() != "STDLIB":
        raise Unsupported("gpxpy parses with lxml here, which this reader does not mirror")
    content = content.removeprefix(gpx._BOM)
    try:
        points = gpxregex.read(content, default_namespace(content))
        if points is not None:
            return _track(_parse(points.skeleton, None, points, read=False), points)
        text = gpx._text(content)  # the reference's own refusals (CorruptFile)
        if gpx._DECLARATION.search(text):
            raise Unsupported("a DOCTYPE: the reference refuses it (UnsafeXml)")
        found = _DEFAULT_NAMESPACE.search(text)
        points = Points()
        return _track(_parse(text, found.span() if found else None, points, read=True),
                      points)
    except (Unsupported, MemoryError):  # the reference needs more memory, not less
        raise
    except Exception as error:  # gpxpy would refuse the file: let the reference say how
        raise Unsupported(f"{type(error).__name__}: {error}") from error


def default_namespace(content: bytes) -> tuple[int, int] | None:
    """The span of UTF-8 `content` that _DEFAULT_NAMESPACE matches in its text."""
    at = content.find(b"xmlns=")
    while at != -1:
        before = content[max(0, at - 3): at]  # a space is 1 to 3 bytes in UTF-8
        space = next((s for s in _SPACES_UTF8 if before.endswith(s)), None)
        declared = _DECLARED.match(content, at) if space else None
        if declared:
            return at - len(space), declared.end()
        at = content.find(b"xmlns=", at + 1)
    return None


def _parse(text: str, skip: tuple[int, int] | None, points: Points, *, read: bool):
    """Stream `text` (less `skip`) through ElementTree; return the root. Each trkpt is
    noted at its end tag and, with `read`, read and emptied."""
    parser = XMLPullParser(("end",))
    pieces = [(0, skip[0]), (skip[1], len(text))] if skip else [(0, len(text))]
    last = None
    for start, stop in pieces:
        for at in range(start, stop, _CHUNK):
            parser.feed(text[at: min(at + _CHUNK, stop)])
            last = _take(parser.read_events(), points, read=read) or last
    parser.close()
    return _take(parser.read_events(), points, read=read) or last  # the root ends last


def _take(events, points: Points, *, read: bool):
    element = None
    for _, element in events:
        if element.tag == "trkpt":
            points.elements.append(element)
            if read:
                _read_point(element, points)
    return element


def _read_point(element, points: Points) -> None:
    """One trkpt at its end tag: what either GPX version reads (the version attribute is
    read last), then its children are dropped to keep memory flat."""
    columns = points.columns
    columns["lat"].append(number(float(element.get("lat").strip())))  # mandatory
    columns["lon"].append(number(float(element.get("lon").strip())))
    ele = when = extensions = speed = None
    seen = set()
    for child in element:
        tag = child.tag
        if tag in seen:
            continue  # gpxpy reads the first child of each name (find)
        seen.add(tag)
        if tag == "ele":
            ele = child.text
        elif tag == "time":
            when = child.text
        elif tag == "extensions":
            extensions = child
        elif tag in gpxfields.TRKPT_BOTH:
            gpxfields.TRKPT_BOTH[tag](child.text)
        elif tag in gpxfields.TRKPT_10 or tag in gpxfields.POINT_11:
            points.deferred.append((tag, child.text))  # <speed>, <course>: GPX 1.0 only
            if tag == "speed":
                speed = child.text
    columns["ele"].append(text_float(ele))
    points.add_times([when])
    columns["speed"].append(lenient_float(speed))
    found = gpx._extensions(list(extensions)) if extensions is not None else {}
    for column in ("hr", "cadence", "power"):
        columns[column].append(found.get(column, math.nan))
    columns["ext_speed"].append(found.get("speed", math.nan))
    element.clear()


def _track(root, points: Points) -> Track:
    """Check the rest of the tree as gpxpy reads it; build gpx.py's Track."""
    v11 = root.get("version") == "1.1"
    checks = gpxfields.POINT_11 if v11 else gpxfields.TRKPT_10
    for tag, text in points.deferred:
        if tag in checks:
            checks[tag](text)
    gpxfields.check_document(root, v11=v11)
    starts, sport = gpxfields.track_points(root, points.elements, points.counts, v11=v11)
    if not starts:
        raise Unsupported("no track points: the reference says what the file holds")
    arrays = points.arrays(v11=v11)
    usable = geo.valid_positions(arrays["lat"], arrays["lon"])
    if not usable.any():
        raise Unsupported("no usable coordinates: the reference says so")
    arrays["lat"][~usable] = math.nan
    arrays["lon"][~usable] = math.nan
    return Track(format="gpx", sport=sport, columns=arrays, segment_starts=tuple(starts),
                 name=gpx.own_name(_names(root, v11=v11)))


def _names(root, *, v11: bool) -> list[str | None]:
    """The tracks' <name> texts, then the file's (GPX 1.1: in <metadata>), as gpxpy
    reads them."""
    names = [_text_of(track.find("name")) for track in root if track.tag == "trk"]
    container = root.find("metadata") if v11 else root
    return names + [_text_of(container.find("name")) if container is not None else None]


def _text_of(element) -> str | None:
    return element.text if element is not None else None
