"""A minimal FIT encoder, so tests and benchmarks can make activity files of any size.

It writes what Cairn reads: a 14-byte header with its CRC, definition and data messages
for file_id, record and session, and the file CRC. Records are packed with numpy, so
200,000 points take well under a second plus the CRC.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from fitparse.profile import FIELD_TYPES

FIT_EPOCH = 631065600  # 1989-12-31T00:00:00Z
_SEMICIRCLES_PER_DEG = 2**31 / 180.0

# FIT base types: id, numpy dtype, invalid value.
ENUM = (0x00, "u1", 0xFF)
UINT8 = (0x02, "u1", 0xFF)
UINT16 = (0x84, "<u2", 0xFFFF)
SINT32 = (0x85, "<i4", 0x7FFFFFFF)
UINT32 = (0x86, "<u4", 0xFFFFFFFF)
UINT32Z = (0x8C, "<u4", 0)


@dataclass(frozen=True, kw_only=True)
class Field:
    """How one value is stored: FIT field number, base type, raw = (value + offset) * scale."""

    num: int
    base: tuple[int, str, int]
    scale: float = 1.0
    offset: float = 0.0


#: Point attribute -> record field (global message 20).
RECORD_FIELDS = {
    "time": Field(num=253, base=UINT32, offset=-FIT_EPOCH),
    "lat": Field(num=0, base=SINT32, scale=_SEMICIRCLES_PER_DEG),
    "lon": Field(num=1, base=SINT32, scale=_SEMICIRCLES_PER_DEG),
    "altitude": Field(num=2, base=UINT16, scale=5, offset=500),
    "heart_rate": Field(num=3, base=UINT8),
    "cadence": Field(num=4, base=UINT8),
    "distance": Field(num=5, base=UINT32, scale=100),
    "speed": Field(num=6, base=UINT16, scale=1000),
    "power": Field(num=7, base=UINT16),
}

#: Totals attribute -> session field (global message 18).
SESSION_FIELDS = {
    "end_time": Field(num=253, base=UINT32, offset=-FIT_EPOCH),
    "start_time": Field(num=2, base=UINT32, offset=-FIT_EPOCH),
    "sport": Field(num=5, base=ENUM),
    "sub_sport": Field(num=6, base=ENUM),
    "elapsed_s": Field(num=7, base=UINT32, scale=1000),
    "timer_s": Field(num=8, base=UINT32, scale=1000),
    "distance_m": Field(num=9, base=UINT32, scale=100),
    "max_speed_mps": Field(num=15, base=UINT16, scale=1000),
    "avg_hr": Field(num=16, base=UINT8),
    "max_hr": Field(num=17, base=UINT8),
    "ascent_m": Field(num=22, base=UINT16),
    "descent_m": Field(num=23, base=UINT16),
}

FILE_ID_FIELDS = {
    "type": Field(num=0, base=ENUM),
    "manufacturer": Field(num=1, base=UINT16),
    "product": Field(num=2, base=UINT16),
    "serial_number": Field(num=3, base=UINT32Z),
    "time_created": Field(num=4, base=UINT32, offset=-FIT_EPOCH),
}


@dataclass(frozen=True, kw_only=True)
class Totals:
    """A session message; None leaves a field out of the file."""

    sport: str = "running"
    sub_sport: str | None = "generic"
    start_time: float | None = None
    elapsed_s: float | None = None
    timer_s: float | None = None
    distance_m: float | None = None
    ascent_m: float | None = None
    descent_m: float | None = None
    avg_hr: float | None = None
    max_hr: float | None = None
    max_speed_mps: float | None = None


def activity(points: dict[str, Sequence[float]], *, sessions: Sequence[Totals] = (),
             file_type: str = "activity", sessions_first: bool = False,
             compressed_timestamps: bool = False) -> bytes:
    """One FIT file: file_id, then records built from `points` (attribute -> values, NaN
    for missing), and `sessions` after the records or, with `sessions_first`, before them.

    With `compressed_timestamps`, every record after the first carries its time in the
    message header (5-bit offset), as some devices write; steps must be under 32 s.
    """
    columns = {name: np.asarray(values, dtype=np.float64) for name, values in points.items()}
    body = bytearray()
    start = next((float(t) for t in columns.get("time", ()) if np.isfinite(t)), FIT_EPOCH)
    body += messages(0, 0, FILE_ID_FIELDS, {
        "type": [_enum("file", file_type)], "manufacturer": [255], "product": [1],
        "serial_number": [12345], "time_created": [start]})
    summary = _session_messages(sessions)
    if sessions_first:
        body += summary
    body += _records(columns, compressed=compressed_timestamps)
    if not sessions_first:
        body += summary
    return wrap(bytes(body))


def chain(*files: bytes) -> bytes:
    """Several FIT files back to back: a chained FIT file, as some watches write."""
    return b"".join(files)


def crc16(data: bytes, crc: int = 0) -> int:
    """The FIT CRC (CRC-16/ARC: reflected polynomial 0xA001, initial value 0)."""
    table = _CRC_TABLE
    for byte in data:
        crc = (crc >> 8) ^ table[(crc ^ byte) & 0xFF]
    return crc


def _make_crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _make_crc_table()


def wrap(body: bytes) -> bytes:
    """Header (with its CRC) + `body` (definition and data messages) + the file CRC."""
    header = struct.pack("<BBHI4s", 14, 0x20, 2132, len(body), b".FIT")
    header += struct.pack("<H", crc16(header))
    data = header + body
    return data + struct.pack("<H", crc16(data))


def _records(columns: dict[str, np.ndarray], *, compressed: bool) -> bytes:
    names = [name for name in RECORD_FIELDS if name in columns]
    n = len(next(iter(columns.values()))) if columns else 0
    if not compressed or n == 0:
        return messages(1, 20, {k: RECORD_FIELDS[k] for k in names}, columns)
    time = columns["time"]
    if not np.all(np.isfinite(time)) or np.any(np.diff(time) < 0) or np.any(np.diff(time) >= 32):
        raise ValueError("compressed timestamps need times rising by less than 32 s")
    first = messages(1, 20, {k: RECORD_FIELDS[k] for k in names},
                      {k: v[:1] for k, v in columns.items()})
    rest = {k: v[1:] for k, v in columns.items() if k != "time"}
    offsets = (time[1:] - FIT_EPOCH).astype(np.int64) & 0x1F
    headers = (0x80 | (2 << 5) | offsets).astype(np.uint8)  # local message 2
    return first + messages(2, 20, {k: RECORD_FIELDS[k] for k in names if k != "time"},
                             rest, headers=headers)


def _session_messages(sessions: Sequence[Totals]) -> bytes:
    if not sessions:
        return b""
    rows = []
    for totals in sessions:
        row = {name: getattr(totals, name) for name in SESSION_FIELDS if name != "end_time"}
        row["sport"] = _enum("sport", totals.sport)
        row["sub_sport"] = _enum("sub_sport", totals.sub_sport) if totals.sub_sport else None
        if totals.start_time is not None and totals.elapsed_s is not None:
            row["end_time"] = totals.start_time + totals.elapsed_s
        rows.append(row)
    names = [n for n in SESSION_FIELDS if any(row.get(n) is not None for row in rows)]
    values = {n: [np.nan if row.get(n) is None else row[n] for row in rows] for n in names}
    return messages(3, 18, {n: SESSION_FIELDS[n] for n in names}, values)


def messages(local: int, global_num: int, fields: dict[str, Field],
              values: dict[str, Sequence[float]], *, headers: np.ndarray | None = None) -> bytes:
    """A definition message, then one data message per row of `values`."""
    definition = struct.pack("<BBBHB", 0x40 | local, 0, 0, global_num, len(fields))
    for field in fields.values():
        definition += struct.pack("<BBB", field.num, np.dtype(field.base[1]).itemsize,
                                  field.base[0])
    n = len(headers) if headers is not None else len(next(iter(values.values()), ()))
    dtype = np.dtype([("header", "u1")] + [(name, f.base[1]) for name, f in fields.items()])
    rows = np.zeros(n, dtype=dtype)
    rows["header"] = local if headers is None else headers
    for name, field in fields.items():
        rows[name] = _raw(np.asarray(values[name], dtype=np.float64), field)
    return definition + rows.tobytes()


def _raw(values: np.ndarray, field: Field) -> np.ndarray:
    _, dtype, invalid = field.base
    raw = np.rint((values + field.offset) * field.scale)
    info = np.iinfo(np.dtype(dtype))
    usable = np.isfinite(raw) & (raw >= info.min) & (raw <= info.max) & (raw != invalid)
    return np.where(usable, raw, invalid).astype(dtype)


def _enum(type_name: str, value: str) -> int:
    for number, name in FIELD_TYPES[type_name].values.items():
        if name == value:
            return number
    raise ValueError(f"{value!r} is not a FIT {type_name}")
