"""What an uploaded file is, decided from its bytes (never its name), and bounded gunzip."""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

FIT = "fit"
GPX = "gpx"

_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"
# The XML root element: skip the BOM, declaration, comments, processing instructions and
# whitespace, then read the first tag's local name.
_XML_PROLOGUE = re.compile(
    rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>)*", re.S)
_ROOT_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


class UnsupportedFile(ValueError):
    """Not a FIT or GPX file (nor a gzipped one)."""


class TooLarge(ValueError):
    """The file, once inflated, is larger than allowed."""


@dataclass(frozen=True, kw_only=True)
class Payload:
    """An activity file as stored: its format, whether it came gzipped, and its content."""

    format: str  # FIT or GPX
    gzipped: bool
    content: bytes  # inflated bytes


def detect(data: bytes) -> str | None:
    """FIT, GPX or None, from the first bytes alone."""
    if _is_fit(data):
        return FIT
    prologue = _XML_PROLOGUE.match(data[:4096])
    match = _ROOT_TAG.match(data, prologue.end() if prologue else 0)
    if match and match.group(1).lower() == b"gpx":
        return GPX
    return None


def inspect(data: bytes, *, max_inflated: int) -> Payload:
    """Decide what `data` is, inflating one layer of gzip at most `max_inflated` bytes."""
    gzipped = data.startswith(_GZIP_MAGIC)
    content = inflate(data, limit=max_inflated) if gzipped else data
    fmt = detect(content)
    if fmt is None:
        if content.startswith(_ZIP_MAGIC):
            raise UnsupportedFile("Zip archives are not accepted here; upload the FIT or GPX "
                                  "files inside it.")
        what = "gzipped file" if gzipped else "file"
        raise UnsupportedFile(f"This {what} is neither FIT nor GPX: Cairn reads FIT and GPX "
                              "files, optionally gzipped.")
    return Payload(format=fmt, gzipped=gzipped, content=content)


def inflate(data: bytes, *, limit: int) -> bytes:
    """Gunzip `data`, refusing to produce more than `limit` bytes (a gzip bomb stops early)."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as error:
        raise UnsupportedFile(f"The gzip data is corrupt ({error}).") from None
    if len(out) > limit:
        raise TooLarge(f"The file inflates to more than {limit // 2**20} MB.")
    if not inflater.eof:
        raise UnsupportedFile("The gzip data is truncated.")
    return out


def _is_fit(data: bytes) -> bool:
    # FIT header: size byte (12 or 14), protocol, profile (2), data size (4), ".FIT".
    return len(data) >= 12 and data[0] in (12, 14) and data[8:12] == b".FIT"
