"""Zip archives written byte by byte, for the shapes zipfile will not write: central
directories of many entries (cheaply, without their members) and entries that share bytes."""

from __future__ import annotations

import io
import struct
import zipfile

_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")
_END64 = struct.Struct("<4sQ2H2L4Q")
_END64_LOCATOR = struct.Struct("<4sLQL")


def directory_only(count: int, *, declared: int | None = None) -> bytes:
    """A zip whose central directory lists `count` empty stored files (no local headers:
    only the directory is read before refusal), with a ZIP64 end record when needed.
    `declared` makes the end record claim another number of entries."""
    entry = _CENTRAL.pack(b"PK\x01\x02", 20, 3, 20, 0, 0, 0, 0, 33, 0, 0, 0, 8, 0, 0, 0,
                          0, 0, 0)
    directory = b"".join(entry + b"%08d" % i for i in range(count))
    return directory + end_records(len(directory), 0, count if declared is None else declared)


def end_records(size_cd: int, offset_cd: int, entries: int) -> bytes:
    """The end of central directory record(s) for a directory of `size_cd` bytes at
    `offset_cd`: ZIP64's as well when there are more than 65,535 entries."""
    if entries < 0xFFFF:
        return _END.pack(b"PK\x05\x06", 0, 0, entries, entries, size_cd, offset_cd, 0)
    end64_at = offset_cd + size_cd
    return (_END64.pack(b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, size_cd,
                        offset_cd)
            + _END64_LOCATOR.pack(b"PK\x06\x07", 0, end64_at, 1)
            + _END.pack(b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))


def overlapping(member: bytes, *, times: int, name: str = "ride.gpx") -> bytes:
    """A zip of one deflated member whose central entry is repeated `times` times: every
    entry points at the same bytes, so expanding it inflates the member `times` times."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(name, member)
    data = buffer.getvalue()
    end = data.rindex(b"PK\x05\x06")
    size_cd, offset_cd = struct.unpack_from("<2L", data, end + 12)
    entry = data[offset_cd: offset_cd + size_cd]
    return data[:offset_cd] + entry * times + end_records(size_cd * times, offset_cd, times)
