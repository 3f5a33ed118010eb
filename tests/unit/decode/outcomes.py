"""What a decoder gives for some bytes, and how two decoders' results are held equal."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from core.decode import DecodeError
from core.track import COLUMNS, Track

Outcome = Track | tuple[str, str]  # a Track, or a refusal's (code, sentence)


def outcome(decode: Callable[[bytes], Track], content: bytes) -> Outcome:
    try:
        return decode(content)
    except DecodeError as error:
        return error.code, str(error)


def differences(got: Outcome, want: Outcome) -> list[str]:
    """What differs, in words; empty when the outcomes are the same.

    Columns must be equal value for value (NaN equal to NaN): the fast decoders compute
    the same floats with the same operations, so no tolerance is given.
    """
    if not isinstance(got, Track) or not isinstance(want, Track):
        return [] if got == want else [f"{got!r} != {want!r}"]
    found = [f"{name}: {getattr(got, name)!r} != {getattr(want, name)!r}"
             for name in ("format", "sport", "sub_sport", "segment_starts", "sessions", "laps",
                          "n", "name")
             if getattr(got, name) != getattr(want, name)]
    for name in COLUMNS:
        a, b = got.columns[name], want.columns[name]
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            where = np.flatnonzero(~((a == b) | (np.isnan(a) & np.isnan(b))))[:3] \
                if a.shape == b.shape else "shape"
            found.append(f"column {name} differs at {where}")
    return found
