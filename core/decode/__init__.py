"""Original file bytes -> Track, with the reference decoders (fitparse, gpxpy)."""

from __future__ import annotations

from core import sniff
from core.track import Track


class DecodeError(ValueError):
    """The file cannot give a track; permanent. `code` is one CamelCase word."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def decode(content: bytes, fmt: str) -> Track:
    """Inflated FIT or GPX bytes -> Track, or DecodeError with a sentence a person can read."""
    from core.decode import fit, gpx  # the decoders import this module's DecodeError

    if fmt == sniff.FIT:
        return fit.decode(content)
    if fmt == sniff.GPX:
        return gpx.decode(content)
    raise DecodeError(f"Cairn cannot decode {fmt!r} files.", code="UnsupportedFile")
