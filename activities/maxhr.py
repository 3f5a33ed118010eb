"""The maximum heart rate an activity's zones use: the one in force on its day.

By default the account's (Profile.max_hr). Dated values are the training app's thresholds
(a layer above): it names its source here at start-up (its AppConfig.ready), so that the
activity page follows them without importing it; where none is in force on the day, the
account's stands in, as it does for training loads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from activities.models import Profile


def _none(user_id: int, day: date) -> int | None:
    return None


_source: Callable[[int, date], int | None] = _none


def dated_by(source: Callable[[int, date], int | None]) -> None:
    """Where dated values are read from: (user id, day) -> the value in force, or None."""
    global _source
    _source = source


def on(user_id: int, day: date | None) -> int | None:
    """The maximum heart rate in force on `day` (None: undated), else the account's."""
    dated = _source(user_id, day) if day is not None else None
    if dated is not None:
        return dated
    return Profile.objects.filter(user_id=user_id).values_list("max_hr", flat=True).first()
