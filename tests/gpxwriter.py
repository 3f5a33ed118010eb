"""A decoded track written back as GPX 1.1 (times to the millisecond, elevation, heart
rate and power in Garmin's TrackPointExtension), so that a test can upload the same ride
in another format, or a synthetic ride (tests/rides.py) as a file."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from core.track import Track


def gpx(track: Track, *, name: str = "ride") -> bytes:
    rows = []
    for i in range(track.n):
        lat, lon = track.lat[i], track.lon[i]
        if not (np.isfinite(lat) and np.isfinite(lon)):
            continue
        parts = [f'<trkpt lat="{lat:.8f}" lon="{lon:.8f}">']
        if track.has("ele") and np.isfinite(track.ele[i]):
            parts.append(f"<ele>{track.ele[i]:.2f}</ele>")
        if np.isfinite(track.time[i]):
            when = datetime.fromtimestamp(float(track.time[i]), UTC)
            parts.append(f"<time>{when:%Y-%m-%dT%H:%M:%S}.{when.microsecond // 1000:03d}Z"
                         "</time>")
        extensions = [f"<gpxtpx:{tag}>{round(float(getattr(track, column)[i]))}</gpxtpx:{tag}>"
                      for column, tag in (("hr", "hr"), ("power", "power"))
                      if track.has(column) and np.isfinite(getattr(track, column)[i])]
        if extensions:
            parts.append("<extensions><gpxtpx:TrackPointExtension>" + "".join(extensions)
                         + "</gpxtpx:TrackPointExtension></extensions>")
        parts.append("</trkpt>")
        rows.append("".join(parts))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="cairn-tests" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<trk><name>{name}</name><trkseg>{''.join(rows)}</trkseg></trk></gpx>").encode()
