"""Whitespace squeezed out of XML as it is inflated, and its track points counted, so that
what a GPX or TCX file costs to decode follows what it holds, not how far it inflates.

A gzip of whitespace compresses about a thousand to one: a 487 KB upload inflated to
490 MB of spaces, all of which the decoders used to hold (as bytes, then as text, then in
the parser). No decoder keeps whitespace: they strip text before reading a number or a
time, fold runs of it in names, and an element's whitespace between tags is only
indentation. So, as each chunk is inflated:

* a run of whitespace right after `>` or right before `<` (indentation, and padding
  around an element's text) is cut to its first character;
* any other run (inside a text or a tag) is cut to its first RUN characters, far more than
  any value the decoders read holds.

A text made only of whitespace keeps one character, so an element that held only
whitespace still holds some (a decoder that refuses a blank number still refuses it).
tests/unit/test_xmlspace.py holds decoding the squeezed bytes of every corpus GPX to the
same Track as decoding the bytes themselves.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

#: What XML calls whitespace.
SPACE = b" \t\r\n"
#: The longest run kept inside a text or a tag.
RUN = 64

_AFTER_TAG = re.compile(rb">([ \t\r\n])[ \t\r\n]+")
_BEFORE_TAG = re.compile(rb"([ \t\r\n])[ \t\r\n]+<")
_LONG = re.compile(rb"([ \t\r\n]{%d})[ \t\r\n]+" % RUN)


def squeeze(data: bytes) -> bytes:
    """`data` with its runs of whitespace cut as the module says (the runs it ends with
    are taken as followed by something other than `<`)."""
    data = _AFTER_TAG.sub(rb">\1", data)
    data = _BEFORE_TAG.sub(rb"\1<", data)
    return _LONG.sub(rb"\1", data)


def squeezed(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """The chunks of an XML document, squeezed as one: a run that crosses chunks is held
    (with the byte before it, which decides how it is cut) until what follows it comes.
    What is held stays small: a run is never kept longer than RUN."""
    held = b""
    for chunk in chunks:
        data = held + chunk
        text = _rstripped(data)
        if not text:  # only whitespace so far, before any tag
            held = data[:RUN + 1]
            continue
        run = data[len(text):len(text) + RUN + 1]
        out = squeeze(text)
        # The last byte of `text` is not whitespace, so squeezing kept it: it is held
        # with the run after it (it says whether the run follows a tag).
        held = out[-1:] + run
        if len(out) > 1:
            yield out[:-1]
    if held:
        yield squeeze(held)


def _rstripped(data: bytes) -> bytes:
    """`data` without the whitespace it ends with. bytes.rstrip() without an argument is
    three times as fast as with one, but it strips \v and \f too (not whitespace to
    XML, nor allowed in it): then the slow way, so that they are never squeezed away."""
    text = data.rstrip()
    if data.count(b"\x0b", len(text)) or data.count(b"\x0c", len(text)):
        return data.rstrip(SPACE)
    return text


class Counter:
    """Counts the start tags of track points (GPX `<trkpt`, TCX `<Trackpoint`) across
    chunks, for a bound that holds before anything is parsed. Tags with a namespace
    prefix are not seen here; the decoders count every point they read all the same."""

    TAGS = (b"<trkpt", b"<Trackpoint")

    def __init__(self) -> None:
        self._counts = dict.fromkeys(self.TAGS, 0)
        self._tail = b""

    @property
    def points(self) -> int:
        return max(self._counts.values())

    def add(self, chunk: bytes) -> int:
        """Count the tags `chunk` ends (one begun in the chunk before included); returns
        the points so far."""
        for tag in self.TAGS:
            # Only as much of the tail as is shorter than the tag: none is counted twice.
            keep = len(tag) - 1
            self._counts[tag] += (self._tail[-keep:] + chunk[:keep]).count(tag) \
                + chunk.count(tag)
        self._tail = (self._tail + chunk[-16:])[-16:]
        return self.points
