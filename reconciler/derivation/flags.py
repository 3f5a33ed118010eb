"""Raising needs_work after ingest: version rollouts and re-syncs both come through here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import F

from activities.models import Activity, Derived


def flag(activity_ids: Iterable[int], *, now: datetime, priority: int,
         bump_pending: bool = False) -> int:
    """Mark activities as needing work because what is wanted of them changed.

    Activities already pending keep their place in the queue. With `bump_pending` they
    get a new generation too, so that a worker busy with one goes round once more
    instead of marking it clean: a re-sync needs that, a version rollout does not (a
    worker running this code builds the new version anyway). Dead activities are left
    for an explicit replay (`resync --dead`). Returns how many were newly marked.
    """
    ids = list(activity_ids)
    fresh = (Activity.objects.filter(id__in=ids, needs_work=False)
             .exclude(status=Activity.Status.DEAD)
             .update(needs_work=True, priority=priority, due_at=now, pending_since=now,
                     generation=F("generation") + 1))
    if bump_pending:
        Activity.objects.filter(id__in=ids, needs_work=True).update(
            generation=F("generation") + 1)
    return fresh


def force(activity_ids: Iterable[int], *, now: datetime, priority: int,
          deriver: str | None = None, revive_dead: bool = False) -> int:
    """Re-sync: mark the derived data (of one deriver, or all) as stale and flag the
    activities; dead ones too when `revive_dead`. Returns how many activities."""
    ids = list(activity_ids)
    stale = Derived.objects.filter(activity_id__in=ids)
    if deriver is not None:
        stale = stale.filter(deriver=deriver)
    stale.update(status=Derived.Status.STALE)
    if revive_dead:
        Activity.objects.filter(id__in=ids, status=Activity.Status.DEAD).update(
            status=Activity.Status.QUEUED, needs_work=True, attempts=0, priority=priority,
            due_at=now, pending_since=now, generation=F("generation") + 1,
            error_code="", error_message="")
    flag(ids, now=now, priority=priority, bump_pending=True)
    return len(ids)


def revised(sender, *, ids: list[int], now: datetime, **_) -> None:
    """An owner revised activities (activities.changes.revised): their tracks are derived
    again from the new revision, first in line, in the transaction of the revision. What
    reads the track follows only where its bytes changed."""
    force(ids, now=now, priority=Activity.Priority.FRESH, deriver="track")
