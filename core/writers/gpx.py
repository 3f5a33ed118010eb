"""GPX 1.1: one <trk>, one <trkseg> per segment; heart rate and cadence in Garmin's
TrackPointExtension (v1), power as <power> beside it, the way most devices and apps write
and read them. A point without a position cannot be a <trkpt> and is left out."""

from __future__ import annotations

from xml.sax.saxutils import escape

from core.track import Track
from core.writers import Meta, WriteError
from core.writers.points import Point, iso, number, placed_segments

_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<gpx version="1.1" creator="Cairn" xmlns="http://www.topografix.com/GPX/1/1" '
         'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">\n')


def write(track: Track, meta: Meta) -> bytes:
    parts = placed_segments(track)
    if not parts:
        raise WriteError("This activity has no positions, and a GPX file is positions: "
                         "export it as TCX or FIT.")
    out = [_HEAD, "  <trk>\n"]
    if meta.name:
        out.append(f"    <name>{escape(meta.name)}</name>\n")
    if meta.description:
        out.append(f"    <desc>{escape(meta.description)}</desc>\n")
    if meta.sport:
        out.append(f"    <type>{escape(meta.sport)}</type>\n")
    for points in parts:
        out.append("    <trkseg>\n")
        out.extend(_point(p) for p in points)
        out.append("    </trkseg>\n")
    out.append("  </trk>\n</gpx>\n")
    return "".join(out).encode()


def _point(p: Point) -> str:
    inner = []
    if p.ele is not None:
        inner.append(f"<ele>{number(p.ele, 2)}</ele>")
    if p.time is not None:
        inner.append(f"<time>{iso(p.time)}</time>")
    tpx = []
    if p.hr is not None:
        tpx.append(f"<gpxtpx:hr>{round(p.hr)}</gpxtpx:hr>")
    if p.cadence is not None:
        tpx.append(f"<gpxtpx:cad>{round(p.cadence)}</gpxtpx:cad>")
    extensions = []
    if p.power is not None:
        extensions.append(f"<power>{round(p.power)}</power>")
    if tpx:
        extensions.append("<gpxtpx:TrackPointExtension>" + "".join(tpx)
                          + "</gpxtpx:TrackPointExtension>")
    if extensions:
        inner.append("<extensions>" + "".join(extensions) + "</extensions>")
    return (f'      <trkpt lat="{number(p.lat, 7)}" lon="{number(p.lon, 7)}">'
            + "".join(inner) + "</trkpt>\n")
