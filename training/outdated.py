"""Training books behind the code: after a bump of training.rebuild.VERSION every book is
rebuilt whole, and users who have activities but no book yet (activities from before
training books existed) get one; both in bounded batches, as records.outdated does."""

from __future__ import annotations

import time
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from activities.models import Activity
from training import flags
from training.models import Book

#: How often (per process) to look again once a whole cycle of looks found nothing.
LOOK_EVERY_S = 60.0
#: Users looked at per look for a missing book: a window of user ids that moves on at
#: each look and wraps around, so that a look is a few index ranges.
USERS_PER_LOOK = 1000


class Seen:
    """When this process last found nothing to flag, and where its look for missing
    books has got to (tests reset it)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.idle_since: float | None = None
        self.after = 0
        self.quiet = True


SEEN = Seen()


def flag(*, now: datetime, batch: int, version: int) -> int:
    """Flag up to `batch` books behind `version` and create up to `batch` missing ones
    (backfill priority) among the next window of users; returns how many."""
    if SEEN.idle_since is not None and time.monotonic() - SEEN.idle_since < LOOK_EVERY_S:
        return 0
    behind = list(Book.objects.filter(version__lt=version, needs_work=False)
                  .exclude(status=Book.Status.DEAD)
                  .values_list("user_id", flat=True)[:batch])
    missing, wrapped = _missing(batch)
    found = behind + missing
    flags.mark(found, now=now, fresh=False, due_now=True)
    SEEN.quiet = SEEN.quiet and not found
    SEEN.idle_since = None
    if wrapped:
        if SEEN.quiet:
            SEEN.idle_since = time.monotonic()
        SEEN.quiet = True
    return len(found)


def _missing(batch: int) -> tuple[list[int], bool]:
    """Users of the next window who have ready activities and no book (up to `batch`),
    and whether the windows wrapped around after it."""
    start = SEEN.after
    end = start + USERS_PER_LOOK
    has_ready = Activity.objects.live().filter(owner=OuterRef("pk"),
                                               status=Activity.Status.READY)
    has_book = Book.objects.filter(user=OuterRef("pk"), user__gt=start, user__lte=end)
    missing = list(get_user_model().objects.filter(pk__gt=start, pk__lte=end)
                   .filter(Exists(has_ready), ~Exists(has_book))
                   .order_by("pk").values_list("pk", flat=True)[:batch])
    if len(missing) == batch:
        SEEN.after = missing[-1]
        return missing, False
    last = get_user_model().objects.order_by("-pk").values_list("pk", flat=True).first()
    if last is None or end >= last:
        SEEN.after = 0
        return missing, True
    SEEN.after = end
    return missing, False
