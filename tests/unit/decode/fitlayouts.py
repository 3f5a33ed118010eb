"""Random FIT files of unusual layouts, for holding the fast decoder to fitparse's reading.

Each file mixes definitions of records, sessions and other messages with random fields,
base types (unknown ones too), array and misaligned sizes, both byte orders, developer
fields, compressed timestamp headers, invalid values, and sometimes a chained file.
"""

from __future__ import annotations

import random
import struct

from fitparse.records import BASE_TYPES

from tests import fitwriter as fw

_RECORD = [253, 253, 0, 1, 2, 3, 4, 5, 6, 7, 53, 73, 78, 8, 18, 28, 9, 100, 0, 1, 2, 5, 6]
_SESSION = [253, 2, 5, 6, 7, 8, 9, 14, 15, 16, 17, 22, 23, 124, 125, 10, 18]
_GLOBALS = [20, 20, 20, 20, 18, 0, 12, 21, 19, 78, 999]
_COMMON_BASES = [0x84, 0x86, 0x85, 0x02, 0x00, 0x83, 0x8C, 0x8B, 0x0A, 0x88]
_RANGES = {"b": (-128, 127), "B": (0, 255), "h": (-32768, 32767), "H": (0, 65535),
           "i": (-2**31, 2**31 - 1), "I": (0, 2**32 - 1), "q": (-2**63, 2**63 - 1),
           "Q": (0, 2**64 - 1)}


def fit_file(seed: int) -> bytes:
    rng = random.Random(seed)
    body = fw.messages(0, 0, {"type": fw.FILE_ID_FIELDS["type"]}, {"type": [4]})
    if rng.random() < 0.3:  # a developer declares a field (or, sometimes, fails to)
        body += _definition(1, 207, [(3, 1, 0x02), (0, 16, 0x0D)], "<")
        body += bytes([1, rng.choice([0, 0, 0, 1, 255])]) + bytes(16)
        body += _definition(1, 206, [(0, 1, 0x02), (1, 1, 0x02), (2, 1, 0x02)], "<")
        body += bytes([1, rng.choice([0, 0, 0, 2]), 5, rng.choice([0x84, 0x02, 0x99])])
    layouts: dict[int, tuple] = {}
    clock = 1_000_000_000
    for _ in range(rng.randint(1, 50)):
        if not layouts or rng.random() < 0.15:
            local = rng.randrange(16) if rng.random() < 0.5 else rng.randrange(4)
            number = rng.choice(_GLOBALS)
            fields = [_field(rng, _SESSION if number == 18 else _RECORD)
                      for _ in range(rng.randint(0, 8))]
            endian = ">" if rng.random() < 0.2 else "<"
            dev = ([(rng.randrange(5), rng.choice([1, 2, 4]), rng.choice([0, 1]))]
                   if rng.random() < 0.15 and number not in (0, 12) else [])
            body += _definition(local, number, fields, endian, dev)
            layouts[local] = (fields, endian, dev)
            continue
        local = rng.choice(list(layouts))
        fields, endian, dev = layouts[local]
        timed = any(num == 253 for num, _, _ in fields)
        for _ in range(rng.randint(1, 30)):
            header = local
            if local < 4 and rng.random() < 0.25 and (not timed or rng.random() < 0.1):
                clock += rng.randrange(40)
                header = 0x80 | local << 5 | clock & 0x1F
            body += bytes([header])
            body += b"".join(_value(rng, num, size, base, endian) for num, size, base in fields)
            body += b"".join(rng.randbytes(size) for _, size, _ in dev)
    data = fw.wrap(body)
    return fw.chain(data, fit_file(seed + 1_000_000)) if rng.random() < 0.1 else data


def _definition(local: int, number: int, fields: list, endian: str, dev=()) -> bytes:
    out = struct.pack("<BBB", 0x40 | local | (0x20 if dev else 0), 0, endian == ">")
    out += struct.pack(endian + "HB", number, len(fields))
    out += b"".join(struct.pack("<3B", *field) for field in fields)
    if dev:
        out += bytes([len(dev)]) + b"".join(struct.pack("<3B", *field) for field in dev)
    return out


def _field(rng: random.Random, numbers: list[int]) -> tuple[int, int, int]:
    number = rng.choice(numbers)
    base = rng.choice(_COMMON_BASES if rng.random() < 0.7 else [*BASE_TYPES, 0x55])
    if number == 253 and rng.random() < 0.8:
        base = 0x86
    size = BASE_TYPES[base].size if base in BASE_TYPES else 1
    if rng.random() < 0.1:
        size *= rng.choice([0, 2, 2, 3, 3, 3])  # arrays, and the odd empty field
    return number, size + (rng.random() < 0.04), base  # sometimes misaligned


def _value(rng: random.Random, number: int, size: int, base_num: int, endian: str) -> bytes:
    base = BASE_TYPES.get(base_num)
    roll = rng.random()
    if roll < 0.1:
        return b"\xff" * size  # fitparse's invalid value for most types
    if base is None or size != base.size or base.fmt not in _RANGES or roll < 0.2:
        if base is not None and base.name.startswith("float") and size == base.size:
            return struct.pack(endian + base.fmt,
                               rng.choice([1.5, -3.25, float("nan"), float("inf"), 9e9]))
        return rng.randbytes(size)
    if number == 253 and base.fmt == "I":
        return struct.pack(endian + "I", rng.randrange(900_000_000, 1_100_000_000))
    low, high = _RANGES[base.fmt]
    if rng.random() < 0.5:
        low, high = max(low, 0), min(high, 70_000)
    return struct.pack(endian + base.fmt, rng.randint(low, high))
