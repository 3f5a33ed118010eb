"""Original file bytes -> Track: a fast decoder first, the reference decoder behind it.

fitparse and gpxpy are the reference decoders (DESIGN.md, "Parse once"). fastfit and
fastgpx give the same Track in a fraction of the time, which tests/unit/decode/
test_parity.py holds them to over the whole corpus. Whatever a fast decoder cannot vouch
for (a layout it does not reproduce, a damaged or unusual file) it hands back by raising
Unsupported, and the reference decoder decides: it gives the Track or the DecodeError.
"""

from __future__ import annotations

from core import sniff
from core.track import Track

#: The most track points one activity may have; a file with more is refused with
#: TooManyPoints. The app sets it from CAIRN_MAX_POINTS at start.
MAX_POINTS = 2_000_000


class DecodeError(ValueError):
    """The file cannot give a track; permanent. `code` is one CamelCase word."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


class Unsupported(Exception):
    """A fast decoder cannot promise the reference's result for this file; never escapes
    `decode`."""


def decode(content: bytes, fmt: str) -> Track:
    """Inflated FIT, GPX or TCX bytes -> Track, or DecodeError with a sentence a person can
    read."""
    # The decoders import this module's DecodeError and Unsupported.
    from core.decode import fastfit, fastgpx, fit, gpx, tcx

    if fmt == sniff.TCX:
        return bounded(tcx.decode(content))  # no fast decoder: the one decoder decides
    if fmt == sniff.FIT:
        fast, reference = fastfit, fit
    elif fmt == sniff.GPX:
        fast, reference = fastgpx, gpx
    else:
        raise DecodeError(f"Cairn cannot decode {fmt!r} files.", code="UnsupportedFile")
    try:
        track = fast.decode(content)
    except Unsupported:
        track = reference.decode(content)
    return bounded(track)


def bounded(track: Track) -> Track:
    """The track, or DecodeError TooManyPoints when it has more than MAX_POINTS."""
    if track.n > MAX_POINTS:
        raise DecodeError(str(sniff.TooManyPoints(MAX_POINTS)), code="TooManyPoints")
    return track
