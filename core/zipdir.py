"""A zip's central directory, read entry by entry within a bound, before zipfile reads it.

zipfile reads the whole central directory into memory and builds an object per entry
before anyone can count them (4 million empty entries: 2 GB and 22 s). This reads the
end-of-central-directory record (ZIP64's too) and then the directory one fixed-size
header at a time, stopping as soon as there are more entries than allowed. It walks the
directory as zipfile does (by its size, from where the end record says it lies), so the
entries it counts are the ones zipfile would list.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import IO

# The layouts zipfile itself uses (structEndArchive, structEndArchive64Locator, ...).
_END = struct.Struct("<4s4H2LH")
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_LOCAL_HEADER = 30  # a local file header's fixed part, before its name and extra field
_END_MAGIC, _END64_LOCATOR_MAGIC, _END64_MAGIC = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
_CENTRAL_MAGIC = b"PK\x01\x02"
_MAX_COMMENT = (1 << 16) - 1
_ZIP64_EXTRA = 0x0001


class Damaged(ValueError):
    """Not a zip archive zipfile could read; the message says what is wrong."""


class TooMany(Exception):
    """More entries than allowed; `at_least` is how many were counted before stopping."""

    def __init__(self, at_least: int) -> None:
        super().__init__(f"at least {at_least} entries")
        self.at_least = at_least


@dataclass(frozen=True, slots=True)
class Entry:
    """One central-directory entry: where its data lies and what it claims to inflate to."""

    offset: int  # of its local header, from the start of the file
    compressed: int
    size: int
    is_dir: bool


def entries(handle: IO[bytes], *, limit: int) -> list[Entry]:
    """Every entry of the zip in `handle`, or TooMany once more than `limit` are found
    (without reading further), or Damaged."""
    first, size_cd, declared, concat = _directory(handle)
    if declared > limit:
        raise TooMany(declared)
    found: list[Entry] = []
    handle.seek(first)
    position = 0
    while position < size_cd:
        if len(found) == limit:
            raise TooMany(limit + 1)
        raw = handle.read(_CENTRAL.size)
        if len(raw) < _CENTRAL.size:
            raise Damaged("the central directory is truncated")
        header = _CENTRAL.unpack(raw)
        if header[0] != _CENTRAL_MAGIC:
            raise Damaged("bad magic number for the central directory")
        name_len, extra_len, comment_len = header[12:15]
        rest = handle.read(name_len + extra_len)
        if len(rest) < name_len + extra_len:
            raise Damaged("the central directory is truncated")
        if comment_len:
            handle.seek(comment_len, 1)
        found.append(_entry(header, rest[:name_len], rest[name_len:], concat))
        position += _CENTRAL.size + name_len + extra_len + comment_len
    return found


def overlapping(found: list[Entry]) -> tuple[Entry, Entry] | None:
    """Two entries whose data would overlap (each spans at least its fixed local header
    and its compressed bytes), or None. Honest archives never share bytes; a zip bomb
    points a thousand entries at one member's data."""
    ordered = sorted(found, key=lambda entry: entry.offset)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.offset + _LOCAL_HEADER + before.compressed > after.offset:
            return before, after
    return None


def _directory(handle: IO[bytes]) -> tuple[int, int, int, int]:
    """(where the central directory starts, its size, the entries the end record
    declares, bytes prepended to the archive), from the end record as zipfile finds it."""
    handle.seek(0, 2)
    file_size = handle.tell()
    tail_start = max(0, file_size - _END.size - _MAX_COMMENT)
    handle.seek(tail_start)
    tail = handle.read()
    found = tail.rfind(_END_MAGIC)
    if found < 0 or len(tail) - found < _END.size:
        raise Damaged("file is not a zip file")
    (_, _, _, _, declared, size_cd, offset_cd, _) = _END.unpack_from(tail, found)
    end_at = tail_start + found
    location = end_at
    locator_at = found - _END64_LOCATOR.size
    if locator_at >= 0 and tail[locator_at:locator_at + 4] == _END64_LOCATOR_MAGIC:
        handle.seek(end_at - _END64_LOCATOR.size - _END64.size)
        record = handle.read(_END64.size)
        if len(record) < _END64.size or record[:4] != _END64_MAGIC:
            raise Damaged("corrupt ZIP64 end of central directory record")
        (_, _, _, _, _, _, _, declared, size_cd, offset_cd) = _END64.unpack(record)
        location = end_at - _END64_LOCATOR.size - _END64.size
    concat = location - size_cd - offset_cd  # bytes prepended to the archive (zipfile's)
    if concat < 0:
        raise Damaged("bad offset for the central directory")
    return offset_cd + concat, size_cd, declared, concat


def _entry(header: tuple, name: bytes, extra: bytes, concat: int) -> Entry:
    compressed, size, offset = header[10], header[11], header[18]
    if 0xFFFFFFFF in (compressed, size, offset):
        compressed, size, offset = _zip64(extra, compressed, size, offset)
    return Entry(offset=offset + concat, compressed=compressed, size=size,
                 is_dir=name.endswith(b"/"))


def _zip64(extra: bytes, compressed: int, size: int, offset: int) -> tuple[int, int, int]:
    """Sizes and offset from the ZIP64 extra field, in zipfile's order (size, compressed,
    offset: each present only where the header holds 0xFFFFFFFF)."""
    at = 0
    while at + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, at)
        if kind == _ZIP64_EXTRA:
            values = list(struct.unpack_from(f"<{length // 8}Q", extra, at + 4))
            if size == 0xFFFFFFFF:
                size = _next(values)
            if compressed == 0xFFFFFFFF:
                compressed = _next(values)
            if offset == 0xFFFFFFFF:
                offset = _next(values)
            return compressed, size, offset
        at += 4 + length
    raise Damaged("a ZIP64 entry without its extra field")


def _next(values: list[int]) -> int:
    if not values:
        raise Damaged("corrupt ZIP64 extra field")
    return values.pop(0)
