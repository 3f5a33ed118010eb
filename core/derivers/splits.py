"""The `splits` deriver: splits per kilometre and per mile and the device's laps
(core.splits), and the seconds at each heart rate from which the page shows time in zones
(core.zones).

Both units are stored so that a change of the user's unit setting rebuilds nothing; the
zones come from the user's maximum heart rate when the page is shown, for the same reason.

Output (JSON): {"km": [split, ...], "mile": [split, ...], "hr_histogram": {...} or null,
"laps": [lap, ...]} (the device's laps, core.splits.laps)
"""

from __future__ import annotations

from core import splits, zones
from core.derivers.base import Deriver
from core.track import Track


def build_splits(track: Track) -> dict:
    return {
        "km": splits.splits(track, splits.KM_M),
        "mile": splits.splits(track, splits.MILE_M),
        "hr_histogram": zones.hr_histogram(track),
        "laps": splits.laps(track),
    }


SPLITS = Deriver(
    name="splits",
    version=1,
    needs=("track",),
    derive=build_splits,
)
