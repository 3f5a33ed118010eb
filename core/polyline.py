"""Google's encoded polyline format (precision 5), as map clients and static maps read it.

The published algorithm: each coordinate is rounded to 1e-5 degree, stored as the
difference from the previous point's, zig-zag signed, and written in 5-bit chunks from
the least significant, each chunk ORed with 0x20 while more follow, plus 63.
"""

from __future__ import annotations

import numpy as np

PRECISION = 5


def quantize(degrees: np.ndarray) -> np.ndarray:
    """Degrees -> integer steps of 1e-5 degree, halves away from zero (as Google rounds)."""
    scaled = np.asarray(degrees, dtype=np.float64) * 10**PRECISION
    return (np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)).astype(np.int64)


def encode(lat: np.ndarray, lon: np.ndarray) -> str:
    """Positions in degrees (finite, same length) -> the encoded polyline string."""
    if len(lat) == 0:
        return ""
    pairs = np.column_stack([quantize(lat), quantize(lon)])
    # Differences of the rounded values, not rounded differences: no drift along the line.
    deltas = np.diff(pairs, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).ravel()
    zigzag = np.where(deltas < 0, ~(deltas << 1), deltas << 1)
    return "".join(_chunks(int(value)) for value in zigzag.tolist())


def _chunks(value: int) -> str:
    out = []
    while value >= 0x20:
        out.append(chr((0x20 | (value & 0x1F)) + 63))
        value >>= 5
    out.append(chr(value + 63))
    return "".join(out)
