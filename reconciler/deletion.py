"""Deleting activities: the request hides an activity at once; the sweep removes it.

`request` (the API, the page, the admin) marks the activities deleted and says they need
work, in one transaction: from then on every user-facing query leaves them out
(Activity.objects.live()), and the same content may be uploaded again (the unique
constraints leave deleted rows out). The sweep leases deleted activities like any work
(leases.lease: attempts counted at the claim, one fence) and removes them in steps, each
in its own fenced transaction, so that a process that dies mid-way leaves a consistent row
that the next sweep takes over when the lease expires and finishes:

1. the derived rows (the heavy ones),
2. the attempt log,
3. the activity and the file uploads that gave it (an archive's upload stays: it holds
   the archive's list of files, whose link to the activity is cleared).

The original file is not removed here: the same bytes may belong to another activity (of
this owner, uploaded again, or of another user). reconciler/orphans.py deletes a stored file
once no row of any user refers to its name and it is older than the grace period.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, PositiveIntegerField, QuerySet, When

from activities.models import Activity, Derived, Upload
from core import backoff
from reconciler import leases
from reconciler.kind import KIND
from records import flags as record_flags
from webhooks import events
from work import attempts as attempt_log
from work import clock

log = structlog.get_logger(__name__)

#: The claim's condition (alias `a`): deleted activities, served by activity_deleting.
DELETED = "a.deleted_at IS NOT NULL"


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
        events.deleted(Activity.objects.filter(id__in=ids), now=now)
        # A direct or resumable upload's own id (transfers/) goes with the file it became.
        Upload.objects.filter(kind=Upload.Kind.SESSION, session__result__activity_id__in=ids,
                              session__result__kind=Upload.Kind.FILE).update(deleted_at=now)
        # The owners' records lose these activities: owed a rebuild in this transaction.
        record_flags.mark(Activity.objects.filter(id__in=ids).values_list("owner_id", flat=True)
                          .distinct(), now=now)
    for activity_id in ids:
        log.info("activity.deleted", activity_id=activity_id)
    return ids


def sweep(*, now: datetime, owner: str, limit: int = 20) -> int:
    """Lease due deletions and finish them; returns how many were leased."""
    taken = leases.lease(Activity, limit=limit, now=now, owner=owner, condition=DELETED)
    for lease in taken:
        remove(lease)
    return len(taken)


def remove(lease: leases.Lease, *, steps: tuple[str, ...] | None = None) -> bool:
    """Remove a leased deleted activity, step by step under the fence; False if the lease
    was lost (the next holder starts again from what is left) or a step failed (retried
    after backoff; a deletion is never given up on). `steps` limits the run to those steps
    (tests stop it mid-way)."""
    for name, step in STEPS:
        if steps is not None and name not in steps:
            continue
        try:
            with transaction.atomic():
                leases.hold_row(Activity, lease.row_id, lease.token, now=clock.now())
                step(lease.row_id)
        except leases.LeaseLost:
            log.warning("deletion.lease_lost", activity_id=lease.row_id, step=name,
                        lease_token=lease.token)
            return False
        except Exception as error:  # the database, a bug: the sweep goes on without it
            log.exception("deletion.failed", activity_id=lease.row_id, step=name,
                          error=f"{type(error).__name__}: {error}", lease_token=lease.token)
            _retry_later(lease)
            return False
    if steps is None:
        log.info("deletion.finished", activity_id=lease.row_id, lease_token=lease.token)
    return True


def _retry_later(lease: leases.Lease) -> None:
    """Hand the lease back with a backoff by the attempts counted (as a transient failure
    of any work is retried)."""
    try:
        with transaction.atomic():
            now = clock.now()
            leases.hold_row(Activity, lease.row_id, lease.token, now=now)
            attempts = Activity.objects.values_list("attempts", flat=True).get(id=lease.row_id)
            Activity.objects.filter(id=lease.row_id).update(
                lease_token=None, lease_owner="", lease_expires_at=None,
                due_at=backoff.next_attempt_at(attempts, now=now,
                                               base_s=settings.CAIRN_BACKOFF_BASE_S,
                                               cap_s=settings.CAIRN_BACKOFF_CAP_S))
    except Exception:  # still failing: the lease runs out, and that is the backoff
        log.exception("deletion.release_failed", activity_id=lease.row_id)


def _derived(activity_id: int) -> None:
    Derived.objects.filter(activity_id=activity_id).delete()


def _attempts(activity_id: int) -> None:
    attempt_log.of(KIND.name, activity_id).delete()


def _activity(activity_id: int) -> None:
    # The collector deletes the file uploads whose activity this is (Upload.activity
    # cascades) and clears archive members' links to it (SET_NULL).
    Activity.objects.filter(id=activity_id).delete()


STEPS: tuple[tuple[str, Callable[[int], None]], ...] = (
    ("derived", _derived), ("attempts", _attempts), ("activity", _activity))
