"""Track points in their common shape, read from UTF-8 bytes with regular expressions.

Building an element per XML node costs more than the speed target allows, so when every
track point has the plain shape of _TRKPT (attributes lat then lon; leaf children
without attributes; at most one <extensions> block, last), fastgpx takes the points
from here and parses only a skeleton: the text with each run of points replaced by one
empty <trkpt/>. That is the tree gpxpy would see, point contents aside, because:

1. expat, as ElementTree runs it for gpxpy (namespaces on, text given as UTF-8), accepts
   the whole text, so every match is one complete element, and a run of matches with no
   tag between them are siblings;
2. the text has no "<!" (comment, CDATA section, DOCTYPE) and no processing
   instruction, in which a "<trkpt" could hide, and every "<trkpt" starts a match;
3. matched texts hold no entity reference ("&"), so they read as ElementTree reads them
   (an empty element's text is None); numbers must be ASCII, where bytes and str agree;
4. no default namespace is declared outside the points, so <ele> is gpxpy's "ele", and
   the declaration gpxpy deletes lies outside them.
When any of this fails, `read` returns None and fastgpx streams the text instead.
"""

from __future__ import annotations

import codecs
import pyexpat
import re

import numpy as np

from core.decode import gpxextensions
from core.decode.gpxfields import POINT_11, TRKPT_10, Points, floats, lenient_float

_TRKPT = re.compile(
    rb'<trkpt\s+lat="([^"<&]*)"\s+lon="([^"<&]*)"\s*>\s*'
    rb"(?:<ele>([^<&]*)</ele>\s*)?(?:<time>([^<&]*)</time>\s*)?"  # the usual two leaves
    rb"((?:<[A-Za-z_][\w.-]*>[^<&]*</[A-Za-z_][\w.-]*>\s*)*+)"  # other leaves, if any
    rb"(?:<extensions>([^<&]*(?:<(?!/?extensions[\s>/])[^<&]*)*+)</extensions>\s*)?</trkpt>")
_LEAF = re.compile(r"<([A-Za-z_][\w.-]*)>([^<&]*)</")
_DEFAULT_NAMESPACE = re.compile(rb"xmlns\s*=")
_STUB = b"<trkpt/>"
_PARTS = 7  # what _TRKPT.split gives per point: the text before it, its 6 groups
_CHUNK = 1 << 20


class _Decline(Exception):
    """Not the common shape after all: fastgpx streams the text instead."""


def read(content: bytes, skip: tuple[int, int] | None) -> Points | None:
    """Points (with `skeleton` and `counts`) if every track point has the common shape,
    else None. `content` is UTF-8 without BOM; `skip` is the byte span of the namespace
    declaration gpxpy deletes."""
    if b"<!" in content or not _is_plain_xml(content, skip):
        return None
    segments = [(0, skip[0]), (skip[1], len(content))] if skip else [(0, len(content))]
    if skip and _joins_oddly(content, *skip):
        return None
    reader = _Reader()
    view = memoryview(content)
    trkpts = 0
    try:
        for start, stop in segments:
            trkpts += content.count(b"<trkpt", start, stop)
            for at, end in _chunks(content, start, stop):
                reader.read(view[at:end])
    except _Decline:
        return None
    finally:
        view.release()
    if sum(reader.counts) != trkpts:
        return None  # a point of another shape (or an element named trkpt...)
    skeleton = b"".join(reader.skeleton)
    if _DEFAULT_NAMESPACE.search(skeleton):
        return None
    reader.points.skeleton = skeleton.decode()
    reader.points.counts = reader.counts
    return reader.points


def _joins_oddly(content: bytes, start: int, stop: int) -> bool:
    """Whether deleting content[start:stop] makes a "<trkpt" or a "<!" of its two sides,
    which the segments either side of it would not see."""
    return (b"<trkpt" in content[max(0, start - 5): start] + content[stop: stop + 5]
            or content[start - 1: start] + content[stop: stop + 1] == b"<!")


def _chunks(content: bytes, start: int, stop: int):
    """content[start:stop] in spans of about _CHUNK bytes, each cut just before a
    "<trkpt": every point the whole text holds lies within one span (a match never holds
    a "<trkpt" but its own once the counts agree), and a chunk's pieces stay small."""
    while start < stop:
        cut = content.find(b"<trkpt", start + _CHUNK, stop)
        end = stop if cut < 0 else cut
        yield start, end
        start = end


def _is_plain_xml(content: bytes, skip: tuple[int, int] | None) -> bool:
    """Whether the text is UTF-8 as Python reads it, expat accepts it as ElementTree
    runs it, and it holds no processing instruction."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    parser = pyexpat.ParserCreate("utf-8", "}")
    found = []
    parser.ProcessingInstructionHandler = lambda target, data: found.append(target)
    pieces = [(0, skip[0]), (skip[1], len(content))] if skip else [(0, len(content))]
    try:
        for at in range(0, len(content), _CHUNK):
            decoder.decode(content[at: at + _CHUNK], final=at + _CHUNK >= len(content))
        for start, stop in pieces:
            for at in range(start, stop, _CHUNK):
                parser.Parse(content[at: min(at + _CHUNK, stop)], False)
        parser.Parse(b"", True)
    except (UnicodeDecodeError, pyexpat.ExpatError):
        return False
    return not found


class _Reader:
    """Chunk by chunk, one _TRKPT.split each (the matching and the cutting in C, nothing
    called back per point): values out, the skeleton with one stub per run of points."""

    def __init__(self) -> None:
        self.points = Points()
        self.counts: list[int] = []  # points in each run (one stub each)
        self.skeleton: list[bytes] = []
        self.tag_since = True  # a tag since the previous point (none yet: a new run)
        self.shapes: list = []  # extension block shapes seen (gpxextensions)

    def read(self, chunk: memoryview) -> None:
        parts = _TRKPT.split(chunk)  # text, 6 groups, text, 6 groups, ..., text
        between = parts[0::_PARTS]
        if len(between) == 1:
            self.skeleton.append(between[0])
            self.tag_since = self.tag_since or b"<" in between[0]
            return
        # A point after a tag starts a run (a stub); after text alone it is a sibling.
        n = len(between) - 1
        if b"<" in b"".join(between[1:-1]):
            runs = [b"<" in text for text in between[:-1]]
        else:  # the rule: points one after another, whitespace between them
            runs = [False] * n
        runs[0] = self.tag_since or b"<" in between[0]
        self.tag_since = b"<" in between[-1]
        starts = np.flatnonzero(runs)
        if not runs[0]:
            self.counts[-1] += int(starts[0]) if len(starts) else n
        self.counts += np.diff(starts, append=n).tolist()
        pieces = [b""] * (2 * n + 1)  # text, stub or nothing, text, ..., text
        pieces[0::2] = between
        pieces[1::2] = [_STUB if run else b"" for run in runs]
        self.skeleton.append(b"".join(pieces))
        self._values(*(parts[k::_PARTS] for k in range(1, _PARTS)))

    def _values(self, lat: list, lon: list, ele: list, time: list, rest: list,
                blocks: list) -> None:
        speed = [None] * len(lat)
        for i, leaves in enumerate(rest):
            if leaves:
                ele[i], time[i], speed[i] = self._other_leaves(leaves.decode(), ele[i],
                                                               time[i])
        for texts in (lat, lon, ele, speed):
            if not b"".join(filter(None, texts)).isascii():
                raise _Decline  # float() reads more digits in str than in bytes
        points = self.points
        points.extend("lat", floats(lat, attribute=True))
        points.extend("lon", floats(lon, attribute=True))
        points.extend("ele", floats(ele))
        points.extend("speed", [lenient_float(v or None) for v in speed] if any(speed)
                      else np.full(len(speed), np.nan))
        points.add_times([v or None for v in time])
        found = gpxextensions.values(blocks, self.shapes)
        if found is None:
            raise _Decline
        for name, values in found.items():
            points.extend(name, values)

    def _other_leaves(self, leaves: str, ele: bytes | None, time: bytes | None) -> tuple:
        """Leaves besides the first <ele> and <time>: checks deferred to the version, and
        <ele>/<time>/<speed> when they come after another leaf."""
        seen = {"ele"} if ele is not None else set()
        seen |= {"time"} if time is not None else set()
        speed = None
        for tag, text in _LEAF.findall(leaves):
            if tag in seen:
                continue  # gpxpy reads the first child of each name (find)
            seen.add(tag)
            if tag == "ele":
                ele = text.encode()
            elif tag == "time":
                time = text.encode()
            elif tag == "extensions":
                raise _Decline  # a text-only <extensions> ahead of the real one
            elif tag in TRKPT_10 or tag in POINT_11:
                self.points.deferred.append((tag, text or None))
                if tag == "speed":
                    speed = text.encode()  # GPX 1.0's <speed>
        return ele, time, speed
