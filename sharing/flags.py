"""Raising a public copy's "needs work" flag, always inside the transaction of what changes
it: a visibility edit (activities.edits), a privacy change (sharing.changes), a track
derived anew (reconciler.derivation.settle), a deletion; and the owner's public heatmap's
with it (and with a copy's store, a merge). Never a copy made outside it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Case, F, PositiveIntegerField, Q, Value, When

from activities import edits
from activities.models import Activity, Visibility
from sharing.models import Privacy, PublicCopy, PublicHeat
from work import userbooks

#: Rows written or locked per statement.
BATCH = 2000


def shared(owner_id: int):
    """The owner's live activities others may read."""
    return (Activity.objects.filter(owner_id=owner_id, deleted_at__isnull=True)
            .exclude(visibility=Visibility.PRIVATE))


def mark(pairs: Iterable[tuple[int, int]], *, now: datetime, fresh: bool = True) -> int:
    """Say these (activity id, owner id) need their public copies rebuilt (or withdrawn),
    creating the rows they lack, fresh work first; returns how many. A copy being built
    keeps its lease, and its new generation sends its holder round again."""
    pairs = sorted(set(pairs))
    if not pairs:
        return 0
    priority = PublicCopy.Priority.FRESH if fresh else PublicCopy.Priority.BACKFILL
    with transaction.atomic():  # the caller's, or its own
        Privacy.objects.bulk_create([Privacy(user_id=o) for o in {o for _, o in pairs}],
                                    ignore_conflicts=True, batch_size=BATCH)
        # In batches: an owner sharing 10,000 activities must stay under PostgreSQL's
        # 65,535 parameters a statement.
        PublicCopy.objects.bulk_create(
            [PublicCopy(activity_id=a, owner_id=o, due_at=now, pending_since=now,
                        priority=priority) for a, o in pairs], ignore_conflicts=True,
            batch_size=BATCH)
        ids = [a for a, _ in pairs]
        # Locked in one order, so that two flaggings of one owner cannot deadlock.
        for start in range(0, len(ids), BATCH):
            chunk = ids[start:start + BATCH]
            rows = list(PublicCopy.objects.filter(activity_id__in=chunk).select_for_update()
                        .order_by("id").values_list("id", flat=True))
            _flag(PublicCopy.objects.filter(id__in=rows), now=now, fresh=fresh)
        heat_changed({o for _, o in pairs}, now=now)
    return len(pairs)


def heat_changed(owner_ids, *, now: datetime) -> None:
    """These owners' public heatmaps drawn again (their rows made if missing), in the
    caller's transaction: a copy flagged, stored or withdrawn, a privacy change."""
    userbooks.mark(PublicHeat, owner_ids, now=now)


def heat_withdrawn(owner_ids, *, now: datetime) -> None:
    """A public activity of these owners stopped being public (made unlisted or private,
    deleted, merged into another): their heatmaps, which still draw it, stop being served
    with this transaction's commit (not ready), and are drawn again. A drawing begun
    before it cannot be stored (sharing.heat.store: its generation moved)."""
    owner_ids = list(owner_ids)
    PublicHeat.objects.filter(user_id__in=owner_ids, status=PublicHeat.Status.READY).update(
        status=PublicHeat.Status.QUEUED)
    heat_changed(owner_ids, now=now)


def _flag(copies, *, now: datetime, fresh: bool) -> int:
    """Flag these copies (not the dead): needing work, a new generation; fresh ones first.
    A leased copy keeps its lease's due_at (its holder goes round again)."""
    priority = PublicCopy.Priority.FRESH if fresh else PublicCopy.Priority.BACKFILL
    idle = Q(needs_work=False)
    return copies.exclude(status=PublicCopy.Status.DEAD).update(
        needs_work=True, generation=F("generation") + 1,
        pending_since=Case(When(idle, then=Value(now)), default=F("pending_since")),
        priority=Value(priority) if fresh else F("priority"),
        due_at=Case(When(lease_token__isnull=False, then=F("due_at")), default=Value(now)),
        attempts=Case(When(idle & Q(lease_token__isnull=True), then=Value(0)),
                      default=F("attempts"), output_field=PositiveIntegerField()))


def owner_changed(owner_id: int, *, now: datetime) -> int:
    """Every shared activity of an owner whose privacy changed: rebuilt, fresh first.
    Called with the owner's privacy row locked (sharing.changes), which orders this
    against every other change of theirs and against every store of a copy (sharing.build
    locks it first too): so one statement flags them all, read by the owner's index, and
    only copies missing (none, normally) are made first."""
    missing = shared(owner_id).filter(public_copy__isnull=True).values_list("id", "owner_id")
    mark(missing, now=now)
    heat_changed([owner_id], now=now)
    return _flag(PublicCopy.objects.filter(owner_id=owner_id, activity__in=shared(owner_id)),
                 now=now, fresh=True)


def edited(sender, *, activity, changes: dict, now: datetime, **_) -> None:
    """A visibility edit: the copy is built (shared) or withdrawn (private)."""
    if "visibility" in changes:
        mark([(activity.id, activity.owner_id)], now=now)
        if changes["visibility"] != Visibility.PUBLIC:  # it may have been public
            heat_withdrawn([activity.owner_id], now=now)


def deleted(sender, *, ids: list[int], now: datetime, **_) -> None:
    """Deleted activities: reads stop with the deletion (its `deleted_at`); the loop
    withdraws the copies' outputs."""
    mark(PublicCopy.objects.filter(activity_id__in=ids).values_list("activity_id", "owner_id"),
         now=now)
    heat_withdrawn(Activity.objects.filter(id__in=ids, visibility=Visibility.PUBLIC)
                   .values_list("owner_id", flat=True).distinct(), now=now)


def merged(sender, *, ids: list[int], merged: bool = True, now: datetime, **_) -> None:
    """Activities merged into others or unmerged (in that transaction): a public heatmap
    counts what the owner's list counts, so their owners' are drawn again (one merged
    away is withdrawn from it at once)."""
    owners = (Activity.objects.filter(id__in=ids, visibility=Visibility.PUBLIC)
              .values_list("owner_id", flat=True).distinct())
    (heat_withdrawn if merged else heat_changed)(owners, now=now)


def mark_settled(activities: list, rounds: dict, *, now: datetime) -> None:
    """The call reconciler.derivation.settle makes, inside its transaction: a new activity
    (processed for the first time) takes its owner's default visibility; shared
    activities whose track came out as new bytes are cut again."""
    _take_defaults([a for a in activities if "summary" not in rounds[a.id].stored
                    and a.status == Activity.Status.READY
                    and a.visibility == Visibility.PRIVATE and not a.share_id])
    pairs = [(a.id, a.owner_id) for a in activities
             if a.visibility != Visibility.PRIVATE and "track" in rounds[a.id].ran
             and "track" not in rounds[a.id].same_bytes]
    mark(pairs, now=now)


def _take_defaults(new: list) -> None:
    """New activities of owners whose default is to share: shared, each with a new link."""
    if not new:
        return
    defaults = dict(Privacy.objects.filter(user_id__in={a.owner_id for a in new})
                    .exclude(default_visibility=Visibility.PRIVATE)
                    .values_list("user_id", "default_visibility"))
    for activity in new:
        if activity.owner_id in defaults:
            activity.visibility = defaults[activity.owner_id]
            activity.share_id = edits.new_share_id(activity)
            Activity.objects.filter(id=activity.id, share_id__isnull=True).update(
                visibility=activity.visibility, share_id=activity.share_id)
