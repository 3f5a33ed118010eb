"""Distances and extents on the Earth's surface, vectorised over numpy arrays of degrees."""

from __future__ import annotations

import numpy as np

#: Mean Earth radius (IUGG), metres.
EARTH_RADIUS_M = 6_371_008.8

#: Faster than anything the activities Cairn accepts (runs, rides, swims, even a car on a
#: motorway): a step implying more is a GPS glitch, not motion.
MAX_SPEED_MPS = 70.0
#: Two honest fixes can each be off by tens of metres; a step is only called impossible
#: when it beats MAX_SPEED_MPS by more than this.
POSITION_ERROR_M = 50.0


def valid_positions(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Mask of points whose position can be used: finite, in range, and not exactly (0, 0).

    Several devices and exporters write 0/0 when they have no fix; nobody records an
    activity exactly on the equator at the prime meridian.
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        in_range = (np.abs(lat) <= 90.0) & (np.abs(lon) <= 180.0)
    return in_range & ~((lat == 0.0) & (lon == 0.0))


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray,
                lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres between two sets of points (NaN in, NaN out)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    half_dphi = np.sin((phi2 - phi1) * 0.5)
    half_dlambda = np.sin(np.radians(np.subtract(lon2, lon1)) * 0.5)
    a = half_dphi * half_dphi + np.cos(phi1) * np.cos(phi2) * (half_dlambda * half_dlambda)
    return (2 * EARTH_RADIUS_M) * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def step_distances_m(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Distance from each point to the next (length n-1); NaN where either end is missing."""
    return haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:])


def is_impossible(distance_m: np.ndarray, *, dt_s: np.ndarray) -> np.ndarray:
    """Mask of steps too far for the time they took; steps of unknown duration pass."""
    with np.errstate(invalid="ignore"):
        # A clock that stands still or runs backwards gives no duration to judge by.
        known = dt_s > 0
        allowed = MAX_SPEED_MPS * np.maximum(dt_s, 1.0) + POSITION_ERROR_M
        return known & (distance_m > allowed)


def usable_positions(lat: np.ndarray, lon: np.ndarray, *, time: np.ndarray) -> np.ndarray:
    """Mask of one segment's points worth drawing or measuring: valid, and not a spike.

    1. Points without a usable position are left out.
    2. A point reached by an impossible step and left by another is a spike: it is
       left out and its neighbours joined (repeated, as a spike may hide another).
    Without timestamps nothing can be judged impossible and every valid point stays.
    """
    keep, _ = Positions(lat, lon).usable(time)
    mask = np.zeros(len(lat), dtype=bool)
    mask[keep] = True
    return mask


class Positions:
    """One segment's (or track's) positions made ready for many distances: the usable
    mask, latitudes in radians and their cosines, each computed once per point (a summary
    measures the same points several ways). Its distances are haversine_m's, bit for bit:
    the same operations on the same values, only not repeated."""

    def __init__(self, lat: np.ndarray, lon: np.ndarray) -> None:
        self.lat, self.lon = lat, lon
        self.valid = valid_positions(lat, lon)
        self.phi = np.radians(lat)
        self.cos_phi = np.cos(self.phi)

    def part(self, segment: slice) -> Positions:
        """The same, for the points of `segment` (views: nothing is computed again)."""
        part = object.__new__(Positions)
        part.lat, part.lon = self.lat[segment], self.lon[segment]
        part.valid, part.phi = self.valid[segment], self.phi[segment]
        part.cos_phi = self.cos_phi[segment]
        return part

    def between(self, first, last) -> np.ndarray:
        """Great-circle metres from the points `first` to the points `last` (indices or
        slices); haversine_m's formula, in its order of operations."""
        # In place, step by step, the very operations of haversine_m (products and sums
        # commute exactly), without a temporary array per step.
        dphi = self.phi[last] - self.phi[first]
        dphi *= 0.5
        np.sin(dphi, out=dphi)
        dphi *= dphi
        dlambda = np.subtract(self.lon[last], self.lon[first])
        np.radians(dlambda, out=dlambda)
        dlambda *= 0.5
        np.sin(dlambda, out=dlambda)
        dlambda *= dlambda
        a = self.cos_phi[first] * self.cos_phi[last]
        a *= dlambda
        a += dphi
        np.clip(a, 0.0, 1.0, out=a)
        np.sqrt(a, out=a)
        np.arcsin(a, out=a)
        a *= 2 * EARTH_RADIUS_M
        return a

    def steps_m(self, keep: np.ndarray) -> np.ndarray:
        """Distance from each kept point (sorted indices) to the next kept one."""
        if len(keep) == len(self.lat):  # every point: slices, no gathering
            return self.between(slice(None, -1), slice(1, None))
        return self.between(keep[:-1], keep[1:])

    def usable(self, time: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """`usable_positions` as sorted indices, and the distances between them when the
        last pass measured them (None otherwise), so that a length need not again."""
        keep, steps, _ = self._usable(time)
        return keep, steps

    def _usable(self, time: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """`usable`, and with the distances the mask of those impossible."""
        keep = np.flatnonzero(self.valid)
        for _ in range(3):
            if len(keep) < 3:
                return keep, None, None
            steps = self.steps_m(keep)
            bad = is_impossible(steps, dt_s=np.diff(time[keep]))
            spikes = np.flatnonzero(bad[:-1] & bad[1:]) + 1
            if len(spikes) == 0:
                return keep, steps, bad
            keep = np.delete(keep, spikes)
        return keep, None, None

    def path_length_m(self, time: np.ndarray) -> float:
        """`path_length_m` of these points: the same number, each distance measured once."""
        keep, steps, bad = self._usable(time)
        if len(keep) < 2:
            return 0.0
        if steps is None:
            steps = self.steps_m(keep)
            bad = is_impossible(steps, dt_s=np.diff(time[keep]))
        return float(np.sum(steps[~bad]))


def path_length_m(lat: np.ndarray, lon: np.ndarray, *, time: np.ndarray) -> float:
    """Length of one segment's path in metres, leaving out GPS glitches.

    Spikes and unusable positions are left out (`usable_positions`); a step still
    impossible after that (a jump the track never comes back from) is not counted.
    """
    return Positions(lat, lon).path_length_m(time)


def project_m(lat: np.ndarray, lon: np.ndarray, *, about: tuple[float, float] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular (x east, y north) metres about the points' middle, or about the
    (lat, lon) `about` when given; NaN in, NaN out.

    Good to well under a per cent across an activity's extent, and cheap. Longitudes
    are unwrapped first, so a track across the antimeridian stays in one piece. `about`
    keeps the scale true where the caller measures (a segment among a long ride's points).
    """
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    finite = np.isfinite(lat) & np.isfinite(lon)
    if not finite.any():
        return np.full(len(lat), np.nan), np.full(len(lat), np.nan)
    lon = lon.copy()
    lon[finite] = np.degrees(np.unwrap(np.radians(lon[finite])))
    if about is None:
        mid_lat = (np.min(lat[finite]) + np.max(lat[finite])) / 2
        mid_lon = (np.min(lon[finite]) + np.max(lon[finite])) / 2
    else:
        mid_lat, mid_lon = about
    scale = np.radians(1.0) * EARTH_RADIUS_M
    return (lon - mid_lon) * scale * np.cos(np.radians(mid_lat)), (lat - mid_lat) * scale


def bbox(lat: np.ndarray, lon: np.ndarray) -> dict[str, float] | None:
    """Bounding box of the usable positions, or None when there are none."""
    keep = valid_positions(lat, lon)
    if not keep.any():
        return None
    return {
        "min_lat": float(np.min(lat[keep])),
        "min_lon": float(np.min(lon[keep])),
        "max_lat": float(np.max(lat[keep])),
        "max_lon": float(np.max(lon[keep])),
    }
