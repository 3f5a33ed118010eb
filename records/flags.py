"""Raising a user's "records need work" flag, always inside the transaction that changes
what the records are built from (reconciler.derivation.settle, activities.edits,
activities.deletion), so that no change can commit without its rebuild being owed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from activities.models import Activity
from records.models import Book
from work import userbooks

#: What a book is built from: an activity's round that ran one of these changed it.
INPUTS = frozenset({"summary", "best_efforts", "route"})


def mark(user_ids: Iterable[int], *, now: datetime, fresh: bool = True,
         due_now: bool = False) -> None:
    """Say these users' books need work, creating the rows they lack (work.userbooks.mark:
    fresh work is due now and goes first; a rebuilt activity, a rollout's, is backfill and
    waits CAIRN_RECORDS_COALESCE_S, so that one whole build takes in many; every call bumps
    the generation; a dead book waits for a re-sync; `due_now`: backfill that has nothing
    to wait for, a version bump)."""
    userbooks.mark(Book, user_ids, now=now, fresh=fresh, due_now=due_now)


def note_settled(activities: list, rounds: dict) -> list[tuple[int, bool]]:
    """(owner id, fresh) for the activities of a settling round whose inputs changed:
    fresh when the activity had no summary before (a new upload) or its owner asked for
    the round (a revision, a reprocess: fresh priority), so that their pages follow at
    once. An input rebuilt to the
    bytes already stored (a forced re-sync, the same code at a new version) changed
    nothing the book reads or names (records.inputs: signatures are contents): no
    rebuild owed."""
    found = []
    for activity in activities:
        result = rounds[activity.id]
        changed = [name for name in INPUTS.intersection(result.ran)
                   if name not in result.same_bytes]
        if changed:
            found.append((activity.owner_id, "summary" not in result.stored
                          or activity.priority == Activity.Priority.FRESH))
    return found


def mark_settled(activities: list, rounds: dict, *, now: datetime) -> None:
    """The one call reconciler.derivation.settle makes, inside its transaction."""
    noted = note_settled(activities, rounds)
    fresh = {user for user, is_fresh in noted if is_fresh}
    mark(fresh, now=now, fresh=True)
    mark({user for user, _ in noted} - fresh, now=now, fresh=False)


def edited(sender, *, activity, changes: dict, now: datetime, **_) -> None:
    """An owner's edit (activities.changes.edited, in its transaction): a new sport changes
    what the owner's records count."""
    if "sport" in changes:
        mark([activity.owner_id], now=now)


def deleted(sender, *, ids: list[int], now: datetime, **_) -> None:
    """Activities deleted (activities.changes.deleted, in the deletion's transaction): their
    owners' records lose them."""
    mark(Activity.objects.filter(id__in=ids).values_list("owner_id", flat=True).distinct(),
         now=now)


def merged(sender, *, ids: list[int], now: datetime, **_) -> None:
    """Activities merged into others or unmerged (activities.changes.merged, in that
    transaction): their owners' records, totals and heatmap count them no more, or again."""
    mark(Activity.objects.filter(id__in=ids).values_list("owner_id", flat=True).distinct(),
         now=now)


def zone_changed(sender, *, user_id: int, now: datetime, **_) -> None:
    """An owner's new time zone (activities.changes.zone_changed): their totals count
    activities without a zone of their own on that zone's dates."""
    mark([user_id], now=now)
