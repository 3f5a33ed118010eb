"""What an uploaded file is, decided from its bytes (never its name), and bounded gunzip."""

from __future__ import annotations

import hashlib
import itertools
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from core import xmlspace

FIT = "fit"
GPX = "gpx"
TCX = "tcx"

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
#: How much of a file the root element is looked for in.
HEAD_BYTES = 64 * 1024
_CHUNK = 1 << 20
#: A gzipped GPX or TCX is squeezed (core/xmlspace.py) once it inflates past this: below,
#: its content is exactly what inflating gives, so are its decoders' error sentences
#: (which name lines and columns), and a file of a usual size costs little to hold whole.
SQUEEZE_FROM = 32 * 2**20
# The XML root element: skip the BOM, declaration, comments, processing instructions,
# a DOCTYPE (internal subset included: the decoder refuses those, with a reason) and
# whitespace, then read the first tag's local name.
_XML_PROLOGUE = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)*",
    re.S)
_ROOT_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


class UnsupportedFile(ValueError):
    """Not a FIT, GPX or TCX file (nor a gzipped one)."""


class TooLarge(ValueError):
    """The file, once inflated, is larger than allowed."""


class TooManyPoints(ValueError):
    """The file holds more track points than one activity may."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"This file holds more than {limit:,} track points, more than "
                         "Cairn takes for one activity.")


@dataclass(frozen=True, kw_only=True)
class Payload:
    """What an upload holds: its format, whether it came gzipped, and its content's hash
    and size (inflated)."""

    format: str  # FIT, GPX or TCX
    gzipped: bool
    sha256: str
    size: int


def detect(data: bytes) -> str | None:
    """FIT, GPX, TCX or None, from the first bytes alone."""
    if _is_fit(data):
        return FIT
    head = data[:HEAD_BYTES]
    prologue = _XML_PROLOGUE.match(head)
    match = _ROOT_TAG.match(head, prologue.end() if prologue else 0)
    root = match.group(1).lower() if match else b""
    if root == b"gpx":
        return GPX
    if root == b"trainingcenterdatabase":
        return TCX
    return None


def inspect(data: bytes, *, max_inflated: int) -> Payload:
    """Decide what `data` is and hash its content, inflating one layer of gzip as a
    stream: memory stays at a chunk whatever the file inflates to, and inflating stops
    past `max_inflated` bytes (a gzip bomb is refused early)."""
    gzipped = data.startswith(_GZIP_MAGIC)
    if not gzipped:
        return Payload(format=_format(data, gzipped=False), gzipped=False,
                       sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    digest, head, size = hashlib.sha256(), bytearray(), 0
    for chunk in _inflated(data, limit=max_inflated):
        digest.update(chunk)
        size += len(chunk)
        if len(head) < HEAD_BYTES:
            head += chunk[:HEAD_BYTES - len(head)]
    return Payload(format=_format(bytes(head), gzipped=True), gzipped=True,
                   sha256=digest.hexdigest(), size=size)


def unwrap(data: bytes, *, max_inflated: int, max_points: int | None = None,
           squeeze_from: int = SQUEEZE_FROM) -> tuple[str, bytes]:
    """(format, content) of an activity file, gunzipped if it is: what decoders read.
    TooManyPoints once a gzipped GPX or TCX shows more than `max_points` track points as
    it inflates; one that inflates past `squeeze_from` bytes is squeezed from there on
    (core/xmlspace.py: its whitespace, which no decoder keeps, cut short)."""
    if data.startswith(_GZIP_MAGIC):
        content = _inflated_whole(data, limit=max_inflated, max_points=max_points,
                                  squeeze_from=squeeze_from)
        return _format(content, gzipped=True), content
    return _format(data, gzipped=False), data


def _inflated_whole(data: bytes, *, limit: int, max_points: int | None,
                    squeeze_from: int) -> bytes:
    chunks = _inflated(data, limit=limit)
    first = next(chunks, b"")
    if _is_fit(first):  # binary: every byte counts
        return b"".join(itertools.chain([first], chunks))
    chunks = _counted(itertools.chain([first], chunks), max_points=max_points)
    pieces, size = [], 0
    for chunk in chunks:
        pieces.append(chunk)
        size += len(chunk)
        if size > squeeze_from:
            break
    else:
        return b"".join(pieces)  # as inflated: what files of a usual size always get
    return b"".join(xmlspace.squeezed(itertools.chain(_emptied(pieces), chunks)))


def _counted(chunks: Iterator[bytes], *, max_points: int | None) -> Iterator[bytes]:
    counter = xmlspace.Counter()
    for chunk in chunks:
        if max_points is not None and counter.add(chunk) > max_points:
            raise TooManyPoints(max_points)
        yield chunk


def _emptied(pieces: list[bytes]) -> Iterator[bytes]:
    """The pieces in order, each let go of once taken."""
    pieces.reverse()
    while pieces:
        yield pieces.pop()


def _inflated(data: bytes, *, limit: int) -> Iterator[bytes]:
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    pending, produced = data, 0
    while True:
        try:
            chunk = inflater.decompress(pending, _CHUNK)
        except zlib.error as error:
            raise UnsupportedFile(f"The gzip data is corrupt ({error}).") from None
        pending = inflater.unconsumed_tail
        produced += len(chunk)
        if produced > limit:
            raise TooLarge(f"The file inflates to more than {limit // 2**20} MB.")
        if chunk:
            yield chunk
        if inflater.eof:
            return
        if not chunk and not pending:
            raise UnsupportedFile("The gzip data is truncated.")


def _format(content: bytes, *, gzipped: bool) -> str:
    fmt = detect(content)
    if fmt is not None:
        return fmt
    if content.startswith(_ZIP_MAGIC):
        raise UnsupportedFile("Zip archives are not accepted here; upload the FIT, GPX or "
                              "TCX files inside it.")
    what = "gzipped file" if gzipped else "file"
    raise UnsupportedFile(f"This {what} is not FIT, GPX or TCX: Cairn reads FIT, GPX and TCX "
                          "files, optionally gzipped.")


def _is_fit(data: bytes) -> bool:
    # FIT header: size byte (12 or 14), protocol, profile (2), data size (4), ".FIT".
    return len(data) >= 12 and data[0] in (12, 14) and data[8:12] == b".FIT"
