"""Expired leases (orphans): their holder stopped before settling them (killed, out of
memory, a crash in a decoder). Each lease taken counted an attempt, so a process death is an
attempt like any other: after CAIRN_MAX_ATTEMPTS the row is given up on (dead), and the
attempts the dead holders left open are closed in the log."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F, Model

from activities.models import Activity
from reconciler import metrics
from reconciler.models import Attempt

log = structlog.get_logger(__name__)

CODE = "WorkerDied"
#: Per leased table: what its worker does, what else a dead row records, and how it is
#: tried again.
_GIVEN_UP: dict[type[Model], tuple[str, dict, str]] = {
    Activity: ("processing this file", {"status": Activity.Status.DEAD},
               " until it is re-synced"),
}


def sentence(model: type[Model], *, attempts: int, last_seen: datetime | None) -> str:
    """What a person reads on a row given up on after its workers kept dying."""
    doing, _, until = _GIVEN_UP[model]
    when = f" (last at {last_seen:%H:%M:%S} UTC)" if last_seen else ""
    return (f"The worker {doing} stopped {attempts} times before finishing{when}; it will "
            f"not be tried again{until}.")


def bury(model: type[Model], *, now: datetime, ids: list[int] | None = None) -> list[int]:
    """Give up on the orphans of a leased table that have used CAIRN_MAX_ATTEMPTS (of
    `ids`, or any): no longer needing work, lease cleared, a reason code and a sentence;
    dead for an activity. Returns their ids. An index probe on activity_leased: normally
    it finds nothing."""
    _, also, _ = _GIVEN_UP[model]
    spent = model.objects.filter(needs_work=True, lease_token__isnull=False, due_at__lte=now,
                                 attempts__gte=settings.CAIRN_MAX_ATTEMPTS)
    if ids is not None:
        spent = spent.filter(id__in=ids)
    if model is Activity:  # a deletion is retried until done (reconciler.deletion)
        spent = spent.filter(deleted_at__isnull=True)
    # Read first: a sweep that finds none (the rule) takes no lock and opens no write.
    if not spent.exists():
        return []
    with transaction.atomic():
        found = list(spent.select_for_update(skip_locked=True)
                     .values_list("id", "attempts", "lease_expires_at")[:100])
        for row_id, attempts, expired in found:
            # The holder last renewed (or took) the lease one lease period before it ran
            # out, and died within a third of a lease after that.
            last_seen = expired - timedelta(seconds=settings.CAIRN_LEASE_S) if expired else None
            model.objects.filter(id=row_id).update(
                needs_work=False, lease_token=None, lease_owner="", lease_expires_at=None,
                pending_since=None, due_at=now, error_code=CODE,
                error_message=sentence(model, attempts=attempts, last_seen=last_seen),
                **also)
        buried = [row_id for row_id, _, _ in found]
        if model is Activity:
            _close_attempts(buried)
    for row_id, attempts, _ in found:
        metrics.EXPIRED_LEASES.labels(outcome="dead").inc()
        log.warning("lease.given_up", **{f"{model._meta.model_name}_id": row_id},
                    attempts=attempts)
    return buried


def taken_over(activity_id: int) -> None:
    """An orphan was leased again: close the attempt its stopped holder left open, and
    count it."""
    _close_attempts([activity_id])
    metrics.EXPIRED_LEASES.labels(outcome="reclaimed").inc()
    log.info("lease.taken_over", activity_id=activity_id)


def _close_attempts(activity_ids: list[int]) -> None:
    # The holder's lease ran out: its attempt ends there. A holder that comes back late
    # overwrites this with lease_lost when it finishes.
    Attempt.objects.filter(activity_id__in=activity_ids, ended_at=None).update(
        outcome=Attempt.Outcome.WORKER_DIED, ended_at=F("held_until"), error_code=CODE,
        error_message="The worker stopped before finishing: its lease ran out.")
