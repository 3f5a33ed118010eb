"""Writing an activity back out as a file: GPX, TCX or FIT, from its stored Track and what
the person calls it. Pure: bytes in memory, no Django.

Each format keeps what it can hold, at its own precision (GPX: positions to 1e-7 degree,
times to the millisecond; TCX: the same, heart rate and cadence whole; FIT: positions in
semicircles, times to the second, altitude to 0.2 m), and leaves out what it cannot: a GPX
point must have a position, a TCX or FIT point a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.track import Track


class WriteError(ValueError):
    """A track the asked-for format cannot hold (a sentence for the person)."""


@dataclass(frozen=True, kw_only=True)
class Meta:
    """What the person knows the activity by: its name, sport (Cairn's, FIT's names) and
    description."""

    name: str = ""
    sport: str | None = None
    description: str = ""


#: Format -> media type of the file written.
MEDIA_TYPES = {
    "gpx": "application/gpx+xml",
    "tcx": "application/vnd.garmin.tcx+xml",
    "fit": "application/vnd.ant.fit",
}


def write(track: Track, meta: Meta, fmt: str) -> bytes:
    """The activity as a `fmt` file, or WriteError when the track cannot be one."""
    from core.writers import fit, gpx, tcx

    writers = {"gpx": gpx.write, "tcx": tcx.write, "fit": fit.write}
    if fmt not in writers:
        raise WriteError(f"There is no {fmt!r} format: choose gpx, tcx or fit.")
    return writers[fmt](track, meta)
