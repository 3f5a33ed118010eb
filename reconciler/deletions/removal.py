"""Removing deleted activities: the sweep's half of a deletion (activities.deletion hides
an activity at once and says it needs work).

Deletions are a kind of reconciled work (reconciler.deletions.kind: attempts counted at
the claim, never given up on); `run` removes a leased one in steps, each in its own
transaction under the fence (work.leases.hold), so that a process that dies mid-way leaves
a consistent row that the next sweep takes over when the lease expires and finishes:

1. the derived rows (the heavy ones),
2. the attempt logs (of every kind of work on activities),
3. the activity and the file uploads that gave it (an archive's upload stays: it holds
   the archive's list of files, whose link to the activity is cleared).

The original file is not removed here: the same bytes may belong to another activity (of
this owner, uploaded again, or of another user). reconciler/operations/orphans.py deletes a
stored file once no row of any user refers to its name and it is older than the grace
period.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog
from django.db import transaction

from activities.models import Activity, Derived
from work import clock, kinds, leases
from work.leases import Lease
from work.models import Attempt
from work.outcomes import Done, Outcome, Retry

log = structlog.get_logger(__name__)

def run(lease: Lease, *, steps: tuple[str, ...] | None = None) -> Outcome:
    """The deletion kind's work on one leased deleted activity: remove it, step by step
    under the fence. A lost lease raises LeaseLost (the next holder starts again from what
    is left); a failing step is retried after backoff, however often (a deletion is never
    given up on). `steps` limits the run to those steps (tests stop it mid-way)."""
    kind = kinds.get(lease.kind)
    for name, step in STEPS:
        if steps is not None and name not in steps:
            continue
        try:
            with transaction.atomic():
                leases.hold(kind, lease, now=clock.now())
                step(lease.row_id)
        except leases.LeaseLost:
            raise
        except Exception as error:  # the database, a bug: this row's outcome
            log.exception("deletion.failed", activity_id=lease.row_id, step=name,
                          error=f"{type(error).__name__}: {error}", lease_token=lease.token)
            return Retry(type(error).__name__,
                         f"Removing this deleted activity failed at its {name} step "
                         f"({type(error).__name__}); it will be tried again.")
    if steps is None:
        log.info("deletion.finished", activity_id=lease.row_id, lease_token=lease.token)
    # The row is gone with the last step: the release finds nothing left to hold.
    return Done()


def _derived(activity_id: int) -> None:
    Derived.objects.filter(activity_id=activity_id).delete()


def _attempts(activity_id: int) -> None:
    # The kernel's log of every kind whose rows are activities (this deletion's own
    # attempts included: they would outlive the row they name).
    on_activities = [k.name for k in kinds.ALL.values() if k.model is Activity]
    Attempt.objects.filter(kind__in=on_activities, row_id=activity_id).delete()


def _activity(activity_id: int) -> None:
    # The collector deletes the file uploads whose activity this is (Upload.activity
    # cascades) and clears archive members' links to it (SET_NULL).
    Activity.objects.filter(id=activity_id).delete()


STEPS: tuple[tuple[str, Callable[[int], None]], ...] = (
    ("derived", _derived), ("attempts", _attempts), ("activity", _activity))
