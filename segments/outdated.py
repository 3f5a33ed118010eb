"""Matches behind the code: after a bump of core.segments.match.VERSION every activity is
matched again, and processed activities that have no ActivityMatch yet (from before
segments existed) get one. Both become flags in bounded batches, as records' books
behind the code do (records.outdated), so that the claim's index never names a version."""

from __future__ import annotations

import time
from datetime import datetime

from django.db.models import Exists, OuterRef

from activities.models import Activity
from segments import flags
from segments.models import ActivityMatch

#: How often (per process) to look again once a whole look found nothing.
LOOK_EVERY_S = 60.0
#: Activities looked at per window for a missing row, and windows per look: windows move
#: on at each look and wrap around, so that a look is a few index ranges whatever the
#: number of activities.
ACTIVITIES_PER_LOOK = 5000
WINDOWS_PER_LOOK = 10


class Seen:
    """When this process last found nothing to flag, and where its look for activities
    without a row has got to (tests reset it)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.idle_since: float | None = None
        self.after = 0
        self.quiet = True


SEEN = Seen()


def flag(*, now: datetime, batch: int, version: int) -> int:
    """Flag up to `batch` matches behind `version` (backfill priority) and create rows for
    up to `batch` processed activities of the next window that have none; returns how
    many. Skipped for LOOK_EVERY_S once every window was looked at and nothing found."""
    if SEEN.idle_since is not None and time.monotonic() - SEEN.idle_since < LOOK_EVERY_S:
        return 0
    behind = list(ActivityMatch.objects.filter(version__lt=version, needs_work=False)
                  .exclude(status=ActivityMatch.Status.DEAD)
                  .values_list("activity_id", "owner_id")[:batch])
    missing, wrapped = _missing(batch)
    found = behind + missing
    flags.mark(found, now=now, fresh=False)
    SEEN.quiet = SEEN.quiet and not found
    SEEN.idle_since = None
    if wrapped:
        if SEEN.quiet:
            SEEN.idle_since = time.monotonic()
        SEEN.quiet = True
    return len(found)


def _missing(batch: int) -> tuple[list[tuple[int, int]], bool]:
    """(activity id, owner id) of live, processed activities without a row (up to
    `batch`), from the next windows of ACTIVITIES_PER_LOOK activities (by id, so that gaps
    in the ids cost nothing), at most WINDOWS_PER_LOOK of them; and whether the windows
    wrapped around after the last one looked at."""
    has_row = ActivityMatch.objects.filter(activity=OuterRef("pk"))
    found: list[tuple[int, int]] = []
    for _ in range(WINDOWS_PER_LOOK):
        start = SEEN.after
        # The window's last id: an index range of ACTIVITIES_PER_LOOK entries.
        end = (Activity.objects.filter(id__gt=start).order_by("id")
               .values_list("id", flat=True)[ACTIVITIES_PER_LOOK - 1:ACTIVITIES_PER_LOOK]
               .first())
        window = Activity.objects.counted().filter(id__gt=start, status=Activity.Status.READY)
        if end is not None:
            window = window.filter(id__lte=end)
        missing = list(window.filter(~Exists(has_row)).order_by("id")
                       .values_list("id", "owner_id")[:batch - len(found)])
        found += missing
        if len(found) == batch:  # more may follow in this window: go on from the last
            SEEN.after = missing[-1][0]
            return found, False
        if end is None:
            SEEN.after = 0
            return found, True
        SEEN.after = end
    return found, False
