"""Books behind the code: after a bump of records.rebuild.VERSION every book is rebuilt
whole, and users who have activities but no book yet (activities from before records
existed) get one. Both are turned into flags in bounded batches, as activity rollouts
are (reconciler.rollouts), so that the claim's index never names a version."""

from __future__ import annotations

import time
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from activities.models import Activity
from records import flags
from records.models import Book

#: How often (per process) to look again once a look found nothing: a bump needs a
#: deploy, so after the first empty look the answer rarely changes.
LOOK_EVERY_S = 60.0


class Seen:
    """When this process last found nothing to flag (tests reset it)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.idle_since: float | None = None


SEEN = Seen()


def flag(*, now: datetime, batch: int, version: int) -> int:
    """Flag up to `batch` books behind `version` and create up to `batch` missing ones
    (backfill priority); returns how many. Skipped for LOOK_EVERY_S after an empty look."""
    if SEEN.idle_since is not None and time.monotonic() - SEEN.idle_since < LOOK_EVERY_S:
        return 0
    behind = list(Book.objects.filter(version__lt=version, needs_work=False)
                  .exclude(status=Book.Status.DEAD)
                  .values_list("user_id", flat=True)[:batch])
    has_ready = Activity.objects.live().filter(owner=OuterRef("pk"),
                                               status=Activity.Status.READY)
    missing = list(get_user_model().objects
                   .filter(Exists(has_ready), ~Exists(Book.objects.filter(user=OuterRef("pk"))))
                   .values_list("pk", flat=True)[:batch])
    found = behind + missing
    flags.mark(found, now=now, fresh=False, due_now=True)
    SEEN.idle_since = None if found else time.monotonic()
    return len(found)
