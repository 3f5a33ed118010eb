"""How far along the activity each point lies: the device's distance, else the GPS path."""

from __future__ import annotations

import numpy as np

from core import geo
from core.track import Track


def along_m(track: Track) -> np.ndarray:
    """Metres from the start at each point; NaN before a segment's first known distance.

    Totals agree with the summary's: the device's cumulative distance column when it
    moves, else the GPS path with glitches left out; segments add up, never bridged.
    """
    dist = track.dist
    if np.nanmax(dist, initial=-np.inf) > np.nanmin(dist, initial=np.inf):
        return _joined(track, _device_leg)
    return _joined(track, _gps_leg)


def _joined(track: Track, leg) -> np.ndarray:
    """Each segment's distances from its own start, offset by the segments before it."""
    out = np.full(track.n, np.nan)
    offset = 0.0
    for segment in track.segments():
        values = leg(track, segment)
        out[segment] = values + offset
        offset += float(np.nanmax(values, initial=0.0))
    return out


def _device_leg(track: Track, segment: slice) -> np.ndarray:
    # The running maximum: a sample that dips and recovers adds nothing (as the summary).
    dist = np.fmax.accumulate(track.dist[segment])
    known = np.isfinite(dist)
    return dist - dist[np.argmax(known)] if known.any() else dist


def _gps_leg(track: Track, segment: slice) -> np.ndarray:
    lat, lon, time = track.lat[segment], track.lon[segment], track.time[segment]
    keep = np.flatnonzero(geo.usable_positions(lat, lon, time=time))
    leg = np.full(len(lat), np.nan)
    if len(keep) == 0:
        return leg
    steps = geo.step_distances_m(lat[keep], lon[keep])
    # A jump the track never comes back from is not distance covered (geo.path_length_m).
    steps[geo.is_impossible(steps, dt_s=np.diff(time[keep]))] = 0.0
    leg[keep] = np.concatenate([[0.0], np.cumsum(steps)])
    # A point without a position stays where the last fix put it.
    return np.fmax.accumulate(leg)
