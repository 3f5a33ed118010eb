"""Re-sync of users' duplicates checks (`resync --deriver duplicates`): every footprint
made again, dead checks revived, behind fresh work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import structlog
from django.db.models import QuerySet

from activities.models import Activity
from duplicates.models import Check
from work import userbooks

log = structlog.get_logger(__name__)

#: The name `resync --deriver` knows users' duplicates checks by.
DERIVER = "duplicates"


def resync(user_ids: Iterable[int], *, now: datetime) -> int:
    found = userbooks.resync(Check, user_ids, now=now)
    log.info("duplicates.resync_requested", users=found)
    return found


def users_of(activities: QuerySet[Activity], *, every: bool, dead: bool) -> list[int]:
    return userbooks.users_of(Check, activities, every=every, dead=dead)
