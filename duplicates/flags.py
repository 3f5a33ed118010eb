"""Raising a user's "duplicates need checking" flag, inside the transaction of the change
(reconciler.derivation.settle for a track with new bytes, a deletion, a "keep both")."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from activities.models import Activity
from duplicates.models import Check
from work import userbooks


def mark(user_ids: Iterable[int], *, now: datetime, fresh: bool = True,
         due_now: bool = False) -> None:
    """Say these users' checks need running (work.userbooks.mark: fresh first, backfill
    coalesced; every call bumps the generation)."""
    userbooks.mark(Check, user_ids, now=now, fresh=fresh, due_now=due_now)


def mark_settled(activities: list, rounds: dict, *, now: datetime) -> None:
    """The call reconciler.derivation.settle makes, inside its transaction: the owners of
    activities whose track bytes changed; fresh for a new activity or a round its owner
    asked for (a revision), backfill for a rollout's rebuild."""
    fresh, backfill = set(), set()
    for activity in activities:
        result = rounds[activity.id]
        if "track" not in result.ran or "track" in result.same_bytes:
            continue
        if "track" not in result.stored or activity.priority == Activity.Priority.FRESH:
            fresh.add(activity.owner_id)
        else:
            backfill.add(activity.owner_id)
    mark(fresh, now=now, fresh=True)
    mark(backfill - fresh, now=now, fresh=False)


def deleted(sender, *, ids: list[int], now: datetime, **_) -> None:
    """Activities deleted (activities.changes.deleted, in the deletion's transaction): a
    pair with one of them is a pair no more."""
    mark(Activity.objects.filter(id__in=ids).values_list("owner_id", flat=True).distinct(),
         now=now)
