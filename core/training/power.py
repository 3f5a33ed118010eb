"""Power-based load of one ride: normalized power, intensity factor, TSS, and the
mean-maximal power curve, after Coggan's definitions (Allen & Coggan, "Training and
Racing with a Power Meter", VeloPress).

Everything runs on seconds.per_second's grid of recording time, trimmed to the stretch
between the first and last power readings; within it a second with no power reading
counts 0 W (many meters send nothing while the rider coasts).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.track import Track
from core.training import seconds

#: Coggan's rolling window for normalized power.
NP_WINDOW_S = 30
#: Durations of the mean-maximal power curve, 1 s to 5 h.
CURVE_DURATIONS_S: tuple[int, ...] = (
    1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600, 5400, 7200, 10800,
    14400, 18000,
)


@dataclass(frozen=True, kw_only=True)
class Best:
    """The highest mean power held for `duration_s`, starting `start_offset_s` after the
    track's first timestamp."""

    duration_s: int
    watts: float
    start_offset_s: float


@dataclass(frozen=True, kw_only=True)
class Ride:
    """A ride's power load; the FTP-relative values are None without an FTP."""

    duration_s: int  # seconds of recording time with power (the grid's length)
    normalized_w: float
    intensity: float | None
    tss: float | None


def watts(track: Track) -> seconds.PerSecond | None:
    """The track's power on the 1 s grid (no reading = 0 W); None without power or when
    the recording is too long for a grid."""
    if not track.has("power"):
        return None
    grid = seconds.per_second(track, "power", trim=True)
    if grid is None:
        return None
    return seconds.PerSecond(np.nan_to_num(grid.values, nan=0.0), grid.clock, grid.elapsed)


def normalized_power(per_second: np.ndarray) -> float | None:
    """Coggan's NP: the 4th root of the mean 4th power of the 30 s rolling mean (full
    windows only); None for fewer than 30 s."""
    n = len(per_second)
    if n < NP_WINDOW_S:
        return None
    sums = np.concatenate([[0.0], np.cumsum(per_second)])
    rolling = (sums[NP_WINDOW_S:] - sums[:-NP_WINDOW_S]) / NP_WINDOW_S
    return float(np.mean(rolling**4) ** 0.25)


def intensity_factor(normalized_w: float, ftp_w: float) -> float:
    """IF = NP / FTP."""
    return normalized_w / ftp_w


def tss(duration_s: float, normalized_w: float, ftp_w: float) -> float:
    """TSS = (s × NP × IF) / (FTP × 3600) × 100: one hour at FTP is 100."""
    return duration_s * normalized_w * intensity_factor(normalized_w, ftp_w) / (ftp_w * 3600) * 100


def ride(track: Track, *, ftp_w: float | None) -> Ride | None:
    """The ride's NP, and IF and TSS when `ftp_w` is a positive FTP; None without power
    or with under 30 s of it."""
    grid = watts(track)
    normalized = normalized_power(grid.values) if grid is not None else None
    if normalized is None:
        return None
    has_ftp = ftp_w is not None and ftp_w > 0
    return Ride(duration_s=len(grid.values), normalized_w=normalized,
                intensity=intensity_factor(normalized, ftp_w) if has_ftp else None,
                tss=tss(len(grid.values), normalized, ftp_w) if has_ftp else None)


def curve(grid: seconds.PerSecond,
          durations_s: tuple[int, ...] = CURVE_DURATIONS_S) -> list[Best]:
    """The mean-maximal power for each duration the grid is long enough for, the
    earliest such stretch where several tie.

    One cumulative sum, then per duration one pass of window sums into a reused buffer:
    O(n) per duration, and peak memory two grid-sized arrays besides the grid.
    """
    n = len(grid.values)
    sums = np.concatenate([[0.0], np.cumsum(grid.values)])
    window = np.empty(n)
    out = []
    for d in durations_s:
        if d > n:
            continue
        found = window[:n - d + 1]
        np.subtract(sums[d:], sums[:-d], out=found)
        start = int(np.argmax(found))
        out.append(Best(duration_s=d, watts=float(found[start]) / d,
                        start_offset_s=grid.elapsed_at(start)))
    return out
