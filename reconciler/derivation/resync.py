"""Forced re-sync: the admin's tool after a deploy (the `resync` command and admin actions)."""

from __future__ import annotations

from datetime import datetime

import structlog
from django.db.models import QuerySet

from activities.models import Activity
from reconciler.derivation import flags

log = structlog.get_logger(__name__)

BATCH = 5000


def resync(activities: QuerySet[Activity], *, now: datetime, deriver: str | None = None,
           revive_dead: bool = False, priority: int = Activity.Priority.BACKFILL) -> int:
    """Mark the selected activities' derived data (or one deriver's) stale and flag them,
    in batches of primary keys so that a re-sync of every activity never holds one huge
    transaction. Returns how many activities were selected."""
    total = 0
    last = 0
    while True:
        ids = list(activities.filter(id__gt=last).order_by("id")
                   .values_list("id", flat=True)[:BATCH])
        if not ids:
            break
        flags.force(ids, now=now, priority=priority, deriver=deriver, revive_dead=revive_dead)
        total += len(ids)
        last = ids[-1]
    log.info("resync.requested", activities=total, deriver=deriver, revive_dead=revive_dead)
    return total
