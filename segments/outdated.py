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
#: Activity ids looked at per look for a missing row: a window that moves on at each look
#: and wraps around, so that a look is an index range whatever the number of activities.
ACTIVITIES_PER_LOOK = 5000


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
    """(activity id, owner id) of the next window's live, processed activities without a
    row (up to `batch`), and whether the windows wrapped around after it."""
    start = SEEN.after
    end = start + ACTIVITIES_PER_LOOK
    has_row = ActivityMatch.objects.filter(activity=OuterRef("pk"))
    missing = list(Activity.objects.live()
                   .filter(id__gt=start, id__lte=end, status=Activity.Status.READY)
                   .filter(~Exists(has_row)).order_by("id")
                   .values_list("id", "owner_id")[:batch])
    if len(missing) == batch:
        SEEN.after = missing[-1][0]
        return missing, False
    last = Activity.objects.order_by("-id").values_list("id", flat=True).first()
    if last is None or end >= last:
        SEEN.after = 0
        return missing, True
    SEEN.after = end
    return missing, False
