"""Heart-rate zones: seconds at each heart rate (stored per activity), and the time in
each zone from a maximum heart rate (the user's setting, applied when shown: changing it
rebuilds nothing).

Five zones as fractions of the maximum, the split Garmin and Strava use by default:
Z1 below 60 %, Z2 60-70 %, Z3 70-80 %, Z4 80-90 %, Z5 from 90 %.
"""

from __future__ import annotations

import numpy as np

from core import motion
from core.track import Track

#: Lower bound of zones 2 to 5, as fractions of the maximum heart rate.
ZONE_FLOORS = (0.6, 0.7, 0.8, 0.9)
ZONE_NAMES = ("Z1 Recovery", "Z2 Endurance", "Z3 Tempo", "Z4 Threshold", "Z5 Maximum")


def hr_histogram(track: Track) -> dict | None:
    """{"from_bpm": b, "seconds": [s at b, s at b+1, ...]}: time at each whole heart
    rate, each step counted at its first point's reading; None without heart rate or time.
    A pause (motion.GAP_S) and a 0 (a strap that lost contact) are not time at a rate."""
    if not (track.has("hr") and track.has("time")):
        return None
    first, dt, _ = motion.moving_steps(track)
    hr = track.hr[first]
    with np.errstate(invalid="ignore"):
        good = np.isfinite(hr) & (hr > 0) & (dt > 0) & (dt <= motion.GAP_S)
    if not good.any():
        return None
    bpm = np.rint(hr[good]).astype(int)
    low = int(bpm.min())
    seconds = np.bincount(bpm - low, weights=dt[good])
    return {"from_bpm": low, "seconds": [round(float(s), 1) for s in seconds]}


def time_in_zones(histogram: dict | None, max_hr: int) -> list[dict]:
    """Per zone: name, low_bpm, high_bpm (None for the top zone), seconds, share (0-1)."""
    if not histogram or max_hr <= 0:
        return []
    floors = [round(f * max_hr) for f in ZONE_FLOORS]
    lows = [0, *floors]
    highs = [*floors, None]
    seconds = [0.0] * len(ZONE_NAMES)
    for offset, s in enumerate(histogram["seconds"]):
        bpm = histogram["from_bpm"] + offset
        zone = sum(bpm >= floor for floor in floors)
        seconds[zone] += s
    total = sum(seconds) or 1.0
    return [{"name": name, "low_bpm": low, "high_bpm": high, "seconds": round(s, 1),
             "share": s / total}
            for name, low, high, s in zip(ZONE_NAMES, lows, highs, seconds, strict=True)]
