"""Track: an activity's normalised points as columnar arrays, and their compact encoding.

Decoding the original file is the dearest step of all (DESIGN.md, "Parse once"), so the
`track` deriver stores this form and every other deriver reads it. Each column is a
float64 array with NaN where the file has no value; the encoding scales each column to
integers, delta-codes and zlib-compresses it, which comes to a few bytes per point.
"""

from __future__ import annotations

import json
import struct
import zlib
from dataclasses import asdict, dataclass, field

import numpy as np

#: Column name -> integer scale used by the encoding (the stored resolution).
COLUMNS: dict[str, float] = {
    "time": 1000.0,  # seconds since the Unix epoch, UTC; kept to the millisecond
    "lat": 1e7,  # degrees; 1e-7 degree is about 1 cm
    "lon": 1e7,
    "ele": 100.0,  # metres, to the centimetre
    "dist": 100.0,  # the device's own cumulative distance, metres
    "speed": 1000.0,  # the device's own speed, m/s
    "hr": 1.0,  # beats per minute
    "cadence": 10.0,  # rpm (or steps per minute), fractional cadence kept
    "power": 1.0,  # watts
}

MAGIC = b"CAIRNTRK"
FORMAT_VERSION = 1
_HEADER_LEN = struct.Struct("<I")


class TrackFormatError(ValueError):
    """Stored track bytes that this code cannot read."""


@dataclass(frozen=True, kw_only=True)
class Session:
    """The recording device's own totals for one session; None where the file lacks them."""

    sport: str | None = None
    sub_sport: str | None = None
    start_time: float | None = None  # epoch seconds
    elapsed_s: float | None = None
    timer_s: float | None = None
    distance_m: float | None = None
    ascent_m: float | None = None
    descent_m: float | None = None
    avg_hr: float | None = None
    max_hr: float | None = None
    max_speed_mps: float | None = None


@dataclass(frozen=True, kw_only=True, eq=False)
class Track:
    """Normalised points of one activity, one array per column, all of length `n`."""

    format: str  # "fit", "gpx" or "tcx": where the points came from
    sport: str | None = None
    sub_sport: str | None = None
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    #: Index of the first point of each segment (GPX trkseg, FIT session); totals never
    #: bridge two segments. Always starts with 0 when there are points.
    segment_starts: tuple[int, ...] = (0,)
    sessions: tuple[Session, ...] = ()
    #: The file's own name for the activity (GPX <name>), None where it has none.
    name: str | None = None
    #: The device's laps (FIT lap messages, TCX <Lap>), each with its own totals, in order.
    laps: tuple[Session, ...] = ()

    def __post_init__(self) -> None:
        n = None
        for name, values in self.columns.items():
            if name not in COLUMNS:
                raise ValueError(f"unknown track column {name!r}")
            if n is None:
                n = len(values)
            elif len(values) != n:
                raise ValueError("track columns differ in length")
        for name in COLUMNS:
            if name not in self.columns:
                self.columns[name] = np.full(n or 0, np.nan)
            else:
                self.columns[name] = np.asarray(self.columns[name], dtype=np.float64)

    @property
    def n(self) -> int:
        return len(self.columns["time"])

    def __getattr__(self, name: str) -> np.ndarray:
        # track.lat reads like a field; only called for names that are not attributes.
        columns = self.__dict__.get("columns", {})
        if name in columns:
            return columns[name]
        raise AttributeError(name)

    def has(self, name: str) -> bool:
        """Whether the column holds at least one value."""
        return bool(np.any(~np.isnan(self.columns[name])))

    def segments(self) -> list[slice]:
        """One slice per segment, in order, empty segments left out."""
        bounds = [*self.segment_starts, self.n]
        return [slice(a, b) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def encode(track: Track) -> bytes:
    """Track -> bytes: header JSON, then per column an optional NaN mask and zlib'd deltas."""
    header: dict = {
        "v": FORMAT_VERSION,
        "n": track.n,
        "format": track.format,
        "sport": track.sport,
        "sub_sport": track.sub_sport,
        "segment_starts": list(track.segment_starts),
        "sessions": [asdict(s) for s in track.sessions],
        "columns": {},
    }
    if track.name is not None:  # absent otherwise: tracks without one encode as before
        header["name"] = track.name
    if track.laps:  # likewise
        header["laps"] = [asdict(lap) for lap in track.laps]
    payload = bytearray()
    for name, scale in COLUMNS.items():
        values = track.columns[name]
        missing = np.isnan(values)
        if track.n == 0 or missing.all():
            continue
        mask = zlib.compress(np.packbits(missing).tobytes()) if missing.any() else b""
        # Carry the last value over gaps so that deltas stay small where data is missing.
        filled = _forward_fill(values, missing)
        ints = np.rint(filled * scale).astype(np.int64)
        deltas = np.diff(ints, prepend=np.int64(0))
        small = deltas.min() >= -(2**31) and deltas.max() < 2**31
        data = zlib.compress((deltas.astype("<i4") if small else deltas.astype("<i8")).tobytes())
        header["columns"][name] = {"dtype": "<i4" if small else "<i8", "mask": len(mask),
                                   "data": len(data)}
        payload += mask + data
    head = json.dumps(header, separators=(",", ":")).encode()
    return MAGIC + _HEADER_LEN.pack(len(head)) + head + bytes(payload)


def decode(blob: bytes) -> Track:
    """bytes written by `encode` -> Track."""
    if not blob.startswith(MAGIC):
        raise TrackFormatError("not a stored track")
    start = len(MAGIC) + _HEADER_LEN.size
    (head_len,) = _HEADER_LEN.unpack_from(blob, len(MAGIC))
    header = json.loads(blob[start : start + head_len])
    if header.get("v") != FORMAT_VERSION:
        raise TrackFormatError(f"stored track format {header.get('v')} is not {FORMAT_VERSION}")
    n = header["n"]
    offset = start + head_len
    columns: dict[str, np.ndarray] = {}
    for name, meta in header["columns"].items():
        mask_bytes = blob[offset : offset + meta["mask"]]
        offset += meta["mask"]
        data = zlib.decompress(blob[offset : offset + meta["data"]])
        offset += meta["data"]
        values = np.cumsum(np.frombuffer(data, dtype=meta["dtype"]).astype(np.int64))
        values = values / COLUMNS[name]
        if mask_bytes:
            missing = np.unpackbits(np.frombuffer(zlib.decompress(mask_bytes), np.uint8))[:n]
            values[missing.astype(bool)] = np.nan
        columns[name] = values
    return Track(
        format=header["format"],
        sport=header["sport"],
        sub_sport=header["sub_sport"],
        columns=columns if columns else {"time": np.full(n, np.nan)},
        segment_starts=tuple(header["segment_starts"]),
        sessions=tuple(Session(**s) for s in header["sessions"]),
        name=header.get("name"),
        laps=tuple(Session(**lap) for lap in header.get("laps", ())),
    )


def _forward_fill(values: np.ndarray, missing: np.ndarray) -> np.ndarray:
    if not missing.any():
        return values
    index = np.where(~missing, np.arange(len(values)), 0)
    np.maximum.accumulate(index, out=index)
    filled = values[index]
    # Leading gaps have nothing to carry: the first real value stands in.
    first = np.argmax(~missing)
    filled[:first] = values[first]
    return filled
