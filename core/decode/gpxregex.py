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
_BATCH = 4096
_CHUNK = 1 << 20


class _Decline(Exception):
    """Not the common shape after all: fastgpx streams the text instead."""


def read(content: bytes, skip: tuple[int, int] | None) -> Points | None:
    """Points (with `skeleton` and `counts`) if every track point has the common shape,
    else None. `content` is UTF-8 without BOM; `skip` is the byte span of the namespace
    declaration gpxpy deletes."""
    if b"<!" in content or not _is_plain_xml(content, skip):
        return None
    reader = _Reader(content, skip)
    try:
        skeleton = _TRKPT.sub(reader.take, content)
        reader.flush()
    except _Decline:
        return None
    if sum(reader.counts) != content.count(b"<trkpt"):
        return None  # a point of another shape (or an element named trkpt...)
    if skip is not None:
        at = skip[0] - reader.shrunk
        skeleton = skeleton[:at] + skeleton[at + skip[1] - skip[0]:]
    if _DEFAULT_NAMESPACE.search(skeleton):
        return None
    reader.points.skeleton = skeleton.decode()
    reader.points.counts = reader.counts
    return reader.points


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
    """The callback of one pass of _TRKPT.sub: values out, one stub per run of points."""

    def __init__(self, content: bytes, skip: tuple[int, int] | None) -> None:
        self.content = content
        self.points = Points()
        self.batch: list[tuple] = []
        self.counts: list[int] = []  # points in each run (one stub each)
        self.end = -1  # where the previous match ended
        self.skip_start, self.skip_end = skip or (-1, -1)
        self.shrunk = 0  # how much shorter the skeleton is before skip_start
        self.shapes: list = []  # extension block shapes seen (gpxextensions)

    def take(self, match: re.Match) -> bytes:
        start, end = match.span()
        if start < self.skip_end and end > self.skip_start:
            raise _Decline  # gpxpy's deleted span lies in a point
        if self.end >= 0 and self.content.find(b"<", self.end, start) < 0:
            stub = b""  # only text since the previous point: a sibling, in the same run
            self.counts[-1] += 1
        else:
            stub = _STUB
            self.counts.append(1)
        if end <= self.skip_start:
            self.shrunk += end - start - len(stub)
        self.end = end
        self.batch.append(match.groups())
        if len(self.batch) == _BATCH:
            self.flush()
        return stub

    def flush(self) -> None:
        if not self.batch:
            return
        lat, lon, ele, time, rest, blocks = (list(f) for f in zip(*self.batch, strict=True))
        self.batch = []
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
