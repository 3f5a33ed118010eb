"""Raising an activity's "match it against the segments" flag, always inside the
transaction that changes its track (reconciler.derivation.settle), and dropping its
efforts inside the one that deletes it (activities.changes.deleted), so that no change
commits without what it owes the segments."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import (
    Case,
    F,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Least

from activities.models import Activity
from segments.models import ActivityMatch, Effort

#: What matching reads of an activity: a round that rebuilt it to new bytes changed it.
INPUTS = frozenset({"track"})


def mark(activities: Iterable[tuple[int, int]], *, now: datetime, fresh: bool = True) -> None:
    """Say these (activity id, owner id) need matching, creating the rows they lack. Fresh
    work (a new upload) goes first; backfill (a rebuilt track, a version bump) after it.
    A pending row keeps its place or moves up; every call bumps the generation, so that a
    worker matching it now goes round once more instead of marking it done. A dead row
    waits for a re-sync."""
    pairs = sorted(set(activities))
    if not pairs:
        return
    priority = ActivityMatch.Priority.FRESH if fresh else ActivityMatch.Priority.BACKFILL
    ids = [activity_id for activity_id, _ in pairs]
    with transaction.atomic():  # the caller's, or its own
        ActivityMatch.objects.bulk_create(
            [ActivityMatch(activity_id=a, owner_id=o, due_at=now, pending_since=now,
                           priority=priority) for a, o in pairs],
            ignore_conflicts=True)
        rows = ActivityMatch.objects.filter(activity_id__in=ids).exclude(
            status=ActivityMatch.Status.DEAD)
        # Locked in one order, so that two transactions flagging the same rows cannot
        # deadlock.
        locked = list(rows.select_for_update().order_by("id").values_list("id", flat=True))
        idle = Q(needs_work=False)
        ActivityMatch.objects.filter(id__in=locked).update(
            needs_work=True, generation=F("generation") + 1,
            pending_since=Case(When(idle, then=Value(now)), default=F("pending_since")),
            priority=Case(When(idle, then=Value(priority)),
                          default=Least(F("priority"), Value(priority)),
                          output_field=PositiveSmallIntegerField()),
            # A leased row's due_at is its lease expiry: left alone.
            due_at=Case(When(lease_token__isnull=False, then=F("due_at")),
                        When(idle, then=Value(now)), default=Least(F("due_at"), Value(now))),
            attempts=Case(When(idle & Q(lease_token__isnull=True), then=Value(0)),
                          default=F("attempts"), output_field=PositiveIntegerField()),
        )


def mark_settled(activities: list, rounds: dict, *, now: datetime) -> None:
    """The call reconciler.derivation.settle makes, inside its transaction: activities
    whose track came out as new bytes are matched again; fresh when the activity had no
    summary before (a new upload). The same bytes at a new version change no effort."""
    fresh, backfill = [], []
    for activity in activities:
        result = rounds[activity.id]
        changed = [name for name in INPUTS.intersection(result.ran)
                   if name not in result.same_bytes]
        if changed:
            pair = (activity.id, activity.owner_id)
            (backfill if "summary" in result.stored else fresh).append(pair)
    mark(fresh, now=now, fresh=True)
    mark(backfill, now=now, fresh=False)


def deleted(sender, *, ids: list[int], now: datetime, **_) -> None:
    """Activities deleted (activities.changes.deleted, in the deletion's transaction):
    their efforts go at once (the ranks of the rest move with them, being read). The match
    rows go first, locked: a worker writing this activity's efforts holds its row, so this
    waits for it and then removes what it wrote; one that comes after finds no row and
    writes nothing (its fence fails)."""
    rows = ActivityMatch.objects.filter(activity_id__in=ids)
    list(rows.select_for_update().order_by("id").values_list("id", flat=True))
    rows.delete()
    Effort.objects.filter(activity_id__in=ids).delete()


def merged(sender, *, ids: list[int], merged: bool, now: datetime, **_) -> None:
    """Activities merged into others (activities.changes.merged, in that transaction):
    their efforts go at once, as a deletion's; unmerged, they are matched again (fresh:
    their owner asked)."""
    if merged:
        deleted(sender, ids=ids, now=now)
        return
    mark(Activity.objects.filter(id__in=ids).values_list("id", "owner_id"), now=now)
