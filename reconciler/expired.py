"""Expired leases (orphans): their holder stopped before settling them (killed, out of
memory, a crash in a decoder), on the tables not yet moved onto the kernel (work.leases.bury
does this for its kinds). Each lease taken counted an attempt, so a process death is an
attempt like any other: after CAIRN_MAX_ATTEMPTS the row is given up on (dead)."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Model

from activities.models import Archive
from reconciler import metrics
from records.models import Book

log = structlog.get_logger(__name__)

CODE = "WorkerDied"
#: Per leased table: what its worker does, what else a dead row records, and how it is
#: tried again.
_GIVEN_UP: dict[type[Model], tuple[str, dict, str]] = {
    Archive: ("expanding this archive", {}, ""),
    Book: ("building these records", {"status": Book.Status.DEAD}, " until they are re-synced"),
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
    for row_id, attempts, _ in found:
        metrics.EXPIRED_LEASES.labels(outcome="dead").inc()
        log.warning("lease.given_up", **{f"{model._meta.model_name}_id": row_id},
                    attempts=attempts)
    return buried
