"""Checks behind the code: after a bump of duplicates.check.VERSION every check runs whole
again, and users with processed activities but no check yet get one; in bounded batches
(work.userbooks.flag_outdated)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, QuerySet

from activities.models import Activity
from duplicates.models import Check
from work import userbooks

LOOK_EVERY_S = 60.0
USERS_PER_LOOK = 1000
SEEN = userbooks.Seen()


def flag(*, now: datetime, batch: int, version: int) -> int:
    return userbooks.flag_outdated(Check, SEEN, now=now, batch=batch, version=version,
                                   has_inputs=_has_ready, look_every_s=LOOK_EVERY_S,
                                   users_per_look=USERS_PER_LOOK)


def _has_ready() -> QuerySet[Activity]:
    return Activity.objects.live().filter(owner=OuterRef("pk"), status=Activity.Status.READY)
