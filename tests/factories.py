"""Small activity files of our own making, different on every call unless told otherwise."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta

_counter = itertools.count()

START = datetime(2026, 1, 10, 7, tzinfo=UTC)


def gpx(*, points: int = 60, start: datetime | None = None, step_s: int = 5,
        lat0: float = 46.0, lon0: float = 14.5, hr: bool = True, times: bool = True,
        seed: int | None = None) -> bytes:
    """A GPX 1.1 track heading east at about 5 m/s with gentle hills.

    Each call gets a different start time (hence different bytes) unless `start` or
    `seed` pins it, because Cairn folds identical uploads into one. Seeds count minutes,
    so that a million of them stay inside FIT's 32-bit clock (until 2126).
    """
    n = next(_counter) if seed is None else seed
    start = start or START + timedelta(minutes=n)
    rows = []
    for i in range(points):
        lat = lat0
        lon = lon0 + i * 5 * step_s / (111_320 * math.cos(math.radians(lat0)))
        ele = 300 + 10 * math.sin(i / 10)
        when = (f"<time>{(start + timedelta(seconds=i * step_s)):%Y-%m-%dT%H:%M:%SZ}</time>"
                if times else "")
        ext = (f"<extensions><gpxtpx:TrackPointExtension><gpxtpx:hr>{120 + i % 30}</gpxtpx:hr>"
               "</gpxtpx:TrackPointExtension></extensions>" if hr else "")
        rows.append(f'<trkpt lat="{lat:.7f}" lon="{lon:.7f}"><ele>{ele:.1f}</ele>{when}{ext}'
                    "</trkpt>")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="cairn-tests" xmlns="http://www.topografix.com/GPX/1/1" '
        'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
        f"<trk><name>test {n}</name><type>cycling</type><trkseg>{''.join(rows)}</trkseg></trk>"
        "</gpx>"
    ).encode()


def gzipped_gpx(*, inflated_mb: int) -> bytes:
    """A GPX of `inflated_mb` MB (one point repeated) in a gzip of a few hundred kB, made a
    megabyte at a time so that the test never holds the inflated text."""
    import zlib

    row = b'<trkpt lat="46.1" lon="14.1"><time>2026-01-01T10:00:00Z</time></trkpt>'
    block = row * ((1 << 20) // len(row))
    packer = zlib.compressobj(1, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    parts = [packer.compress(b'<?xml version="1.0"?><gpx version="1.1" creator="t">'
                             b"<trk><trkseg>")]
    parts += [packer.compress(block) for _ in range(inflated_mb)]
    parts += [packer.compress(b"</trkseg></trk></gpx>"), packer.flush()]
    return b"".join(parts)


def fit(*, points: int = 600, step_s: int = 1, seed: int | None = None) -> bytes:
    """A FIT activity (records only) heading east at about 5 m/s; distinct per call."""
    import numpy as np

    from tests import fitwriter

    n = next(_counter) if seed is None else seed
    start = (START + timedelta(minutes=n)).timestamp()
    i = np.arange(points, dtype=np.float64)
    return fitwriter.activity({
        "time": start + i * step_s,
        "lat": np.full(points, 46.0),
        "lon": 14.5 + i * 5 * step_s / (111_320 * math.cos(math.radians(46.0))),
        "ele": 300 + 10 * np.sin(i / 10),
        "hr": 120 + i % 30,
    })


def archive(members: list[tuple[str, bytes]], *, folders: tuple[str, ...] = ()) -> bytes:
    """A zip archive holding these (name, bytes) members, and empty folder entries."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for folder in folders:
            zipped.writestr(zipfile.ZipInfo(folder.rstrip("/") + "/"), b"")
        for name, data in members:
            zipped.writestr(name, data)
    return buffer.getvalue()


def tcx(*, points: int = 120, step_s: int = 5, seed: int | None = None,
        lat0: float = 46.0, lon0: float = 14.5, start: datetime | None = None) -> bytes:
    """A TCX run heading east at about 5 m/s with the device's distance and heart rate;
    distinct per call unless `seed` or `start` pins it."""
    import numpy as np

    from core.track import Track
    from tests import tcxwriter

    n = next(_counter) if seed is None else seed
    begin = (start or START + timedelta(minutes=n)).timestamp()
    i = np.arange(points, dtype=np.float64)
    track = Track(format="tcx", sport="running", columns={
        "time": begin + i * step_s,
        "lat": np.full(points, lat0),
        "lon": lon0 + i * 5 * step_s / (111_320 * math.cos(math.radians(lat0))),
        "ele": 300 + 10 * np.sin(i / 10),
        "dist": i * 5.0 * step_s,
        "hr": 120 + i % 30,
    })
    return tcxwriter.from_track(track)
