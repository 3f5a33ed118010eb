"""Raising a user's "training book needs work" flag, always inside the transaction that
changes what the book is built from (reconciler.derivation.settle, activities.edits,
activities.deletion, the account's profile, a new threshold, gear), so that no change commits
without its rebuild being owed. The flag says only "look again": which loads and days
the change moved, the rebuild finds by comparing each activity's inputs with those its
stored load was built from (training.rebuild), so flags raised together cost one build."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from activities.models import Activity, Gear
from training.models import Book
from work import userbooks

#: What a book is built from: an activity's round that ran one of these changed it (the
#: track, for loads and power; the summary, for the start time and sport).
INPUTS = frozenset({"track", "summary"})


def mark(user_ids: Iterable[int], *, now: datetime, fresh: bool = True,
         due_now: bool = False) -> None:
    """Say these users' books need work, creating the rows they lack (work.userbooks.mark's
    rules, the records books' too: fresh work is due now and goes first; backfill waits
    CAIRN_RECORDS_COALESCE_S unless `due_now`; every call bumps the generation; a dead book
    waits for a re-sync)."""
    userbooks.mark(Book, user_ids, now=now, fresh=fresh, due_now=due_now)


def mark_settled(activities: list, rounds: dict, *, now: datetime) -> None:
    """The call reconciler.derivation.settle makes, inside its transaction: the owners of
    activities whose track or summary bytes changed (the same bytes at a new version move
    no signature: training.inputs); fresh when the activity had no summary before (a new
    upload, which then gets its owner's default gear for its sport) or its owner asked for
    the round."""
    fresh, backfill, new = set(), set(), []
    for activity in activities:
        result = rounds[activity.id]
        changed = [name for name in INPUTS.intersection(result.ran)
                   if name not in result.same_bytes]
        if not changed:
            continue
        if "summary" not in result.stored:
            new.append(activity.id)
        # Fresh for a new activity, or a round its owner asked for (a revision, a
        # reprocess: fresh priority); a rollout's rebuild is backfill.
        if "summary" not in result.stored or activity.priority == Activity.Priority.FRESH:
            fresh.add(activity.owner_id)
        else:
            backfill.add(activity.owner_id)
    default_gear(new)
    mark(fresh, now=now, fresh=True)
    mark(backfill - fresh, now=now, fresh=False)


def default_gear(ids: list[int]) -> None:
    """Give these new activities without gear their owner's default gear for their sport
    (the sport shown): the oldest gear, not retired, that lists it."""
    if not ids:
        return
    chosen: dict[tuple[int, str], list[int]] = {}
    for activity_id, owner, user_sport, sport in (
            Activity.objects.filter(id__in=ids, gear__isnull=True,
                                    status=Activity.Status.READY)
            .values_list("id", "owner_id", "user_sport", "sport")):
        chosen.setdefault((owner, user_sport or sport), []).append(activity_id)
    owners = {owner for owner, _ in chosen}
    gear = list(Gear.objects.filter(owner_id__in=owners, retired=False).order_by("id")
                .values_list("id", "owner_id", "sports"))
    for (owner, sport), activity_ids in chosen.items():
        found = next((g for g, o, sports in gear if o == owner and sport in sports), None)
        if found is not None:
            Activity.objects.filter(id__in=activity_ids).update(gear_id=found)


def edited(sender, *, activity, changes: dict, now: datetime, **_) -> None:
    """An owner's edit (activities.changes.edited, in its transaction): the sport is on
    each activity's load; the gear's totals count it."""
    if "sport" in changes or "gear_id" in changes:
        mark([activity.owner_id], now=now)


def deleted(sender, *, ids: list[int], now: datetime, **_) -> None:
    """Activities deleted (activities.changes.deleted, in the deletion's transaction): the
    series moves from their days on."""
    mark(Activity.objects.filter(id__in=ids).values_list("owner_id", flat=True).distinct(),
         now=now)


def merged(sender, *, ids: list[int], now: datetime, **_) -> None:
    """Activities merged into others or unmerged (activities.changes.merged, in that
    transaction): their loads and gear totals go, or come back."""
    mark(Activity.objects.filter(id__in=ids).values_list("owner_id", flat=True).distinct(),
         now=now)


def profile_changed(sender, *, user_id: int, now: datetime, **_) -> None:
    """A new time zone (activities' days) or maximum heart rate (the fallback of hr_max):
    activities.changes.zone_changed and max_hr_changed, in the profile's transaction."""
    mark([user_id], now=now)
