"""Gzips that inflate far (hundreds of MB from a few hundred KB), built in a second."""

from __future__ import annotations

import struct
import zlib

_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def filled(parts: list[bytes], *, mb: int, fill: bytes = b" ") -> bytes:
    """A gzip of `parts` with `mb` MB of `fill` repeated between each two, built without
    compressing the fill more than once: a 1 MB block after a full flush compresses to the
    same bytes every time, so those bytes are repeated."""
    raw = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = (fill * (2**20 // len(fill) + 1))[:2**20]
    filler = raw.compress(block) + raw.flush(zlib.Z_FULL_FLUSH)
    body, crc, size = [], 0, 0
    for index, part in enumerate(parts):
        if index:
            body.append(filler * mb)
            for _ in range(mb):
                crc = zlib.crc32(block, crc)
            size += mb * len(block)
        body.append(raw.compress(part) + raw.flush(zlib.Z_FULL_FLUSH))
        crc, size = zlib.crc32(part, crc), size + len(part)
    body.append(raw.flush())
    return _HEADER + b"".join(body) + struct.pack("<II", crc, size & 0xFFFFFFFF)
