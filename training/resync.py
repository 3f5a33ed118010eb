"""Re-sync of users' training books (`resync --deriver training`): every load and day
recomputed, dead books revived, behind fresh work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import structlog
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet

from activities.models import Activity
from training import flags
from training.models import Book

log = structlog.get_logger(__name__)

#: The name `resync --deriver` knows users' training books by.
DERIVER = "training"
BATCH = 5000


def resync(user_ids: Iterable[int], *, now: datetime) -> int:
    """Flag these users' books for a whole rebuild (creating missing ones), in batches;
    returns how many users."""
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        with transaction.atomic():
            Book.objects.filter(user_id__in=batch, status=Book.Status.DEAD).update(
                status=Book.Status.QUEUED, needs_work=False, attempts=0, error_code="",
                error_message="")
            flags.mark(batch, now=now, fresh=False, due_now=True)
            Book.objects.filter(user_id__in=batch).update(whole=True)
    log.info("training.resync_requested", users=len(ids))
    return len(ids)


def users_of(activities: QuerySet[Activity], *, every: bool, dead: bool) -> list[int]:
    """The users a `resync --deriver training` selection names: everyone (--all), the
    dead books' users (--dead), else the owners of the selected activities."""
    if every:
        return list(get_user_model().objects.values_list("pk", flat=True))
    if dead:
        return list(Book.objects.filter(status=Book.Status.DEAD)
                    .values_list("user_id", flat=True))
    return list(activities.values_list("owner_id", flat=True).distinct())
