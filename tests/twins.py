"""One ride recorded twice, for the merge tests: a bike computer's FIT (positions and
power, no heart rate) and a watch's GPX (positions and heart rate every 4 s), along
tests/segmentrides.py's road at 6 m/s. The duplicates check pairs them and keeps the
bike computer's (power: more data)."""

from __future__ import annotations

from tests import fitwriter, gpxwriter, rides
from tests import segmentrides as roads

SPEED_MPS = 6.0


def _ride(every_s: float, columns: dict):
    return rides.ride(roads.ON, distance_at=rides.constant(SPEED_MPS), every_s=every_s,
                      columns=columns)


def bike_fit() -> bytes:
    bike = _ride(1.0, {"power": lambda t: 200 + (t % 7)})
    return fitwriter.activity({name: bike.columns[name]
                               for name in ("time", "lat", "lon", "power")})


def watch_gpx() -> bytes:
    return gpxwriter.gpx(_ride(4.0, {"hr": lambda t: 120 + t // 10}), name="Watch")
