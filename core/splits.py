"""Splits: the activity cut every kilometre or mile, with the time, climb and heart rate
of each piece, as Strava and Garmin Connect show them.

A split's time is its moving time (motion.moving_time_s' rule, step by step), so a
coffee stop does not make one kilometre look slow; each step counts in the split where
it starts. The last split is the remainder, shorter than the unit.
"""

from __future__ import annotations

import numpy as np

from core import distance, motion
from core.track import Track

KM_M = 1000.0
MILE_M = 1609.344
#: A remainder shorter than this is GPS noise at the finish, not a split.
MIN_LAST_M = 50.0


def splits(track: Track, unit_m: float) -> list[dict]:
    """One dict per split: n, distance_m, moving_s, elevation_change_m (None without
    elevation), avg_hr_bpm (None without heart rate). Empty without distance or time."""
    along = distance.along_m(track)
    if not track.has("time") or not np.isfinite(along).any():
        return []
    total = float(np.nanmax(along))
    count = int(total // unit_m) + (1 if total % unit_m >= MIN_LAST_M else 0)
    if count == 0:
        return []
    first, dt, speed = motion.moving_steps(track)
    with np.errstate(invalid="ignore"):
        moving = (dt > 0) & (dt <= motion.GAP_S) & ~(speed < motion.STOP_SPEED_MPS)
    where = along[first]
    known = np.isfinite(where)
    index = np.minimum((where[known] // unit_m).astype(int), count - 1)
    moving_s = np.bincount(index, weights=np.where(moving[known], dt[known], 0.0),
                           minlength=count)
    hr = _hr_means(track, first[known], dt[known], index, count)
    bounds = [min(k * unit_m, total) for k in range(count + 1)]
    ele = _at(along, track.ele, bounds)
    out = []
    for k in range(count):
        climb = ele[k + 1] - ele[k]
        out.append({
            "n": k + 1,
            "distance_m": round(bounds[k + 1] - bounds[k], 1),
            "moving_s": round(float(moving_s[k]), 1),
            "elevation_change_m": None if np.isnan(climb) else round(float(climb), 1),
            "avg_hr_bpm": None if np.isnan(hr[k]) else round(float(hr[k])),
        })
    return out


def _hr_means(track: Track, first: np.ndarray, dt: np.ndarray, index: np.ndarray,
              count: int) -> np.ndarray:
    """Time-weighted mean heart rate per split; a 0 (strap off) or a pause is not a reading."""
    hr = track.hr[first]
    with np.errstate(invalid="ignore"):
        good = np.isfinite(hr) & (hr > 0) & (dt > 0) & (dt <= motion.GAP_S)
    weight = np.bincount(index[good], weights=dt[good], minlength=count)
    total = np.bincount(index[good], weights=(hr * dt)[good], minlength=count)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(weight > 0, total / weight, np.nan)


def _at(along: np.ndarray, values: np.ndarray, at: list[float]) -> np.ndarray:
    """`values` interpolated at distances `at`; NaN where nothing is known."""
    ok = np.isfinite(along) & np.isfinite(values)
    if not ok.any():
        return np.full(len(at), np.nan)
    order = np.argsort(along[ok], kind="stable")
    return np.interp(at, along[ok][order], values[ok][order])


def laps(track: Track) -> list[dict]:
    """The device's laps with their own totals: n, distance_m, timer_s, ascent_m,
    avg_hr_bpm, max_hr_bpm (None where the file lacks one); empty when the file has fewer
    than two (one lap is the whole activity again)."""
    if len(track.laps) < 2:
        return []
    return [{
        "n": n,
        "distance_m": None if lap.distance_m is None else round(lap.distance_m, 1),
        "timer_s": None if lap.timer_s is None else round(lap.timer_s, 1),
        "ascent_m": None if lap.ascent_m is None else round(lap.ascent_m, 1),
        "avg_hr_bpm": None if lap.avg_hr is None else round(lap.avg_hr),
        "max_hr_bpm": None if lap.max_hr is None else round(lap.max_hr),
    } for n, lap in enumerate(track.laps, start=1)]
