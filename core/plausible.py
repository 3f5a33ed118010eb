"""Values no activity can have, dropped from a decoded track before anything reads it.

A file can say anything: an elevation of 1e308 m, a heart rate of 1e308, a year 0001
point among 2024's. Left in, one such value makes absurd totals (a descent of 6.7e307 m,
an elapsed time of 2.5e11 s) and overflows the stored track's integer columns. Each bound
below is wider than any real recording, so a real value is never lost; a value outside
it becomes unknown (NaN), as if the device had not written it, and the point stays.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from core.track import COLUMNS, Session, Track

#: Column -> (lowest, highest) value a real recording can hold.
BOUNDS: dict[str, tuple[float, float]] = {
    # 1980-01-06, the GPS epoch (nothing earlier was recorded by a GPS device), to
    # 2100-01-01; FIT's own clock starts in 1989 and ends in 2126.
    "time": (315_964_800.0, 4_102_444_800.0),
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
    # The Dead Sea shore is -430 m, Everest 8,849 m; wider still for a barometer's drift.
    "ele": (-500.0, 9000.0),
    # Earth's circumference: no activity covers more in one file.
    "dist": (0.0, 40_075_000.0),
    # 100 m/s is faster than anything Cairn's sports reach (summary rule: no speed above it).
    "speed": (0.0, 100.0),
    # The lowest resting rate recorded is about 27, the highest rate about 220; below 20
    # is a strap without contact (devices also write 0 for that).
    "hr": (20.0, 250.0),
    # Fastest sprint cadences are about 200 rpm and 250 steps per minute.
    "cadence": (0.0, 300.0),
    # A track sprinter peaks near 2,500 W.
    "power": (0.0, 3000.0),
}
assert BOUNDS.keys() == COLUMNS.keys()

_HOUR = 3600.0
#: Session field -> (lowest, highest): the device's own totals, held to the same limits.
SESSION_BOUNDS: dict[str, tuple[float, float]] = {
    "start_time": (0.0, BOUNDS["time"][1]),  # FIT's system time counts from power-on
    "elapsed_s": (0.0, 31 * 24 * _HOUR),  # a month: a device records no longer session
    "timer_s": (0.0, 31 * 24 * _HOUR),
    "distance_m": BOUNDS["dist"],
    "ascent_m": (0.0, 1_000_000.0),  # a hundred Everests
    "descent_m": (0.0, 1_000_000.0),
    "avg_hr": BOUNDS["hr"],
    "max_hr": BOUNDS["hr"],
    "max_speed_mps": BOUNDS["speed"],
}


def clean(track: Track) -> Track:
    """The track with every value outside BOUNDS made unknown (NaN), and every session
    total outside SESSION_BOUNDS unknown (None); the same object when all are in bounds."""
    columns = {}
    for name, (low, high) in BOUNDS.items():
        values = track.columns[name]
        with np.errstate(invalid="ignore"):
            outside = (values < low) | (values > high)
        columns[name] = np.where(outside, np.nan, values) if outside.any() else values
    sessions = tuple(_clean_session(s) for s in track.sessions)
    laps = tuple(_clean_session(lap) for lap in track.laps)
    if (sessions == track.sessions and laps == track.laps
            and all(columns[n] is track.columns[n] for n in columns)):
        return track
    return Track(format=track.format, sport=track.sport, sub_sport=track.sub_sport,
                 columns=columns, segment_starts=track.segment_starts, sessions=sessions,
                 name=track.name, laps=laps)


def _clean_session(session: Session) -> Session:
    absurd = {name: None for name, (low, high) in SESSION_BOUNDS.items()
              if (value := getattr(session, name)) is not None
              and not (math.isfinite(value) and low <= value <= high)}
    return dataclasses.replace(session, **absurd) if absurd else session
