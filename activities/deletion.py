"""Deleting activities, the request: an activity is hidden at once; the sweep removes it
(reconciler.deletions).

`request` (the API, the page, the admin) marks the activities deleted and says they need
work, in one transaction: from then on every user-facing query leaves them out
(Activity.objects.live()), and the same content may be uploaded again (the unique
constraints leave deleted rows out). What the deletion owes the apps above this one (the
owners' records to rebuild, webhook events) is announced in the same transaction
(activities.changes.deleted), so that it commits with the deletion or not at all.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from django.db import transaction
from django.db.models import Case, F, PositiveIntegerField, QuerySet, When

from activities import changes
from activities.models import Activity, Upload

log = structlog.get_logger(__name__)


def request(activities: QuerySet[Activity], *, now: datetime) -> list[int]:
    """Delete these activities for their owner now; the sweep removes the rows. Returns
    the ids newly deleted (one already deleted is left as it is)."""
    with transaction.atomic():
        ids = list(activities.live().select_for_update().values_list("id", flat=True))
        if not ids:
            return []
        # A worker holding the lease keeps it (its settle sees the deletion and hands the
        # row on, settle.next_state); an unleased row is due now, with a fresh count.
        Activity.objects.filter(id__in=ids).update(
            deleted_at=now, needs_work=True, pending_since=now,
            priority=Activity.Priority.FRESH, generation=F("generation") + 1,
            due_at=Case(When(lease_token__isnull=True, then=now), default=F("due_at")),
            attempts=Case(When(lease_token__isnull=True, then=0), default=F("attempts"),
                          output_field=PositiveIntegerField()))
        Upload.objects.filter(activity_id__in=ids, kind=Upload.Kind.FILE).update(
            deleted_at=now)
        # A direct or resumable upload's own id (transfers/) goes with the file it became.
        Upload.objects.filter(kind=Upload.Kind.SESSION, session__result__activity_id__in=ids,
                              session__result__kind=Upload.Kind.FILE).update(deleted_at=now)
        changes.deleted.send(sender=Activity, ids=ids, now=now)
    for activity_id in ids:
        log.info("activity.deleted", activity_id=activity_id)
    return ids
