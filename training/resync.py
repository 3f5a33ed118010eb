"""Re-sync of users' training books (`resync --deriver training`): every load and day
recomputed, dead books revived, behind fresh work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import structlog
from django.db.models import QuerySet

from activities.models import Activity
from training.models import Book
from work import userbooks

log = structlog.get_logger(__name__)

#: The name `resync --deriver` knows users' training books by.
DERIVER = "training"


def resync(user_ids: Iterable[int], *, now: datetime) -> int:
    """Flag these users' books for a whole rebuild (creating missing ones), in batches;
    returns how many users."""
    found = userbooks.resync(Book, user_ids, now=now)
    log.info("training.resync_requested", users=found)
    return found


def users_of(activities: QuerySet[Activity], *, every: bool, dead: bool) -> list[int]:
    """The users a `resync --deriver training` selection names: everyone (--all), the dead
    books' users (--dead), else the owners of the selected activities."""
    return userbooks.users_of(Book, activities, every=every, dead=dead)
