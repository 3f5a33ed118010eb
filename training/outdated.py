"""Training books behind the code: after a bump of training.rebuild.VERSION every book is
rebuilt whole, and users who have activities but no book yet (activities from before
training books existed) get one; both in bounded batches, by the look the records books
use too (work.userbooks.flag_outdated)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, QuerySet

from activities.models import Activity
from training.models import Book
from work import userbooks

#: How often (per process) to look again once a look found nothing: a bump needs a
#: deploy, so after the first empty look the answer rarely changes.
LOOK_EVERY_S = 60.0

#: Users looked at per look for a missing book: a window of user ids that moves on at
#: each look and wraps around, so that a look is a few index ranges whatever the number
#: of users (looking at them all is a read of every user and every book).
USERS_PER_LOOK = 1000

#: When this process last found nothing to flag, and where its look for missing books
#: has got to (tests reset it).
SEEN = userbooks.Seen()


def flag(*, now: datetime, batch: int, version: int) -> int:
    """Flag up to `batch` books behind `version` and create up to `batch` missing ones
    (backfill priority) among the next window of users; returns how many. Skipped for
    LOOK_EVERY_S once every window has been looked at and nothing was found."""
    return userbooks.flag_outdated(Book, SEEN, now=now, batch=batch, version=version,
                                   has_inputs=_has_ready, look_every_s=LOOK_EVERY_S,
                                   users_per_look=USERS_PER_LOOK)


def _has_ready() -> QuerySet[Activity]:
    """A user's ready activities (the user is the outer query's row)."""
    return Activity.objects.live().filter(owner=OuterRef("pk"), status=Activity.Status.READY)
