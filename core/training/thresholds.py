"""Which threshold (FTP, LTHR, resting or maximum heart rate) was in force on a day, from
the user's history of changes: a test on 1 March re-scores rides from 1 March on, and
leaves the winter's loads as they were."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import NamedTuple

#: The kinds activity loads use, named as load.activity_load's arguments.
KINDS = ("ftp_w", "lthr", "hr_rest", "hr_max")


class Threshold(NamedTuple):
    """A threshold value that holds from `effective` until the next of its kind."""

    kind: str
    value: float
    effective: date


def value_on(history: Iterable[Threshold | tuple[str, float, date]], kind: str,
             day: date) -> float | None:
    """The value of `kind` in force on `day`: the entry of the latest effective date on
    or before it (of two on one date, the later in `history`); None before the first."""
    found: tuple[date, float] | None = None
    for entry_kind, value, effective in history:
        if entry_kind == kind and effective <= day and (found is None or effective >= found[0]):
            found = (effective, value)
    return found[1] if found is not None else None


def values_on(history: Iterable[Threshold | tuple[str, float, date]],
              day: date) -> dict[str, float]:
    """Every kind's value in force on `day`, the kinds with none left out; ready to pass
    to load.activity_load as keywords."""
    entries = list(history)
    found = {kind: value_on(entries, kind, day) for kind in KINDS}
    return {kind: value for kind, value in found.items() if value is not None}
