"""Synthetic rides uploaded for the segment tests: a 1 km road due east (tests/rides.py's
place), ridden on, beside or far from it at known speeds, as GPX files of their own."""

from __future__ import annotations

from activities import ingest
from core.track import Track
from tests import gpxwriter, rides

#: The road, and rides along it from 200 m before to 400 m after.
ROAD = [(0, 0), (1000, 0)]
ON = [(-200, 0), (1400, 0)]
#: A parallel road 40 m north (past the tolerance), and one 5 km away.
BESIDE = [(-200, 40), (1400, 40)]
FAR = [(-200, 5000), (1400, 5000)]


def track(path, *, speed_mps: float, shift_s: float = 0.0) -> Track:
    ridden = rides.ride(path, distance_at=rides.constant(speed_mps),
                        columns={"hr": lambda t: 120 + 0 * t})
    columns = dict(ridden.columns) | {"time": ridden.time + shift_s}
    return Track(format="gpx", columns=columns)


def upload(user, path, *, speed_mps: float, shift_s: float = 0.0, name: str = "ride") -> int:
    """Upload the ride as a GPX of its own (a distinct start time makes distinct bytes);
    the activity's id."""
    data = gpxwriter.gpx(track(path, speed_mps=speed_mps, shift_s=shift_s), name=name)
    return ingest.accept(data, owner=user, original_name=f"{name}.gpx").activity.id


def road_points() -> list[list[float]]:
    return rides.points(ROAD)


def rides_points(path) -> list[list[float]]:
    return rides.points(path)


def expected_elapsed(speed_mps: float) -> float:
    return 1000.0 / speed_mps
