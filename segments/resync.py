"""Re-sync of segments (`resync --deriver segments`, the admin's actions): the selected
activities matched again, dead ones revived, behind fresh work."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import structlog
from django.db import transaction
from django.db.models import QuerySet

from activities.models import Activity
from segments import flags
from segments.models import ActivityMatch, Segment

log = structlog.get_logger(__name__)

#: The name `resync --deriver` knows segment matches by.
DERIVER = "segments"
BATCH = 5000


def resync(activities: Iterable[tuple[int, int]], *, now: datetime) -> int:
    """Match these (activity id, owner id) again (creating missing rows), in batches;
    returns how many."""
    pairs = sorted(set(activities))
    for start in range(0, len(pairs), BATCH):
        batch = pairs[start:start + BATCH]
        with transaction.atomic():
            ActivityMatch.objects.filter(activity_id__in=[a for a, _ in batch],
                                         status=ActivityMatch.Status.DEAD).update(
                status=ActivityMatch.Status.QUEUED, needs_work=False, attempts=0,
                error_code="", error_message="")
            flags.mark(batch, now=now, fresh=False)
    log.info("segments.resync_requested", activities=len(pairs))
    return len(pairs)


def backfill_again(segments: QuerySet[Segment], *, now: datetime) -> int:
    """Match these segments against all their owners' activities again, from the first
    (dead ones revived); returns how many."""
    return segments.filter(lease_token__isnull=True).update(
        needs_work=True, status=Segment.Status.MATCHING, backfill_after=0, attempts=0,
        due_at=now, pending_since=now, priority=Segment.Priority.BACKFILL, error_code="",
        error_message="")


def selected(activities: QuerySet[Activity], *, every: bool, dead: bool
             ) -> list[tuple[int, int]]:
    """The activities a `resync --deriver segments` selection names: every processed one
    that counts (--all: a merged one has no efforts), the dead matches' (--dead), else the
    selected activities."""
    if dead:
        return list(ActivityMatch.objects.filter(status=ActivityMatch.Status.DEAD)
                    .values_list("activity_id", "owner_id"))
    chosen = Activity.objects.counted() if every else activities
    return list(chosen.filter(status=Activity.Status.READY).values_list("id", "owner_id"))
