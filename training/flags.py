"""Raising a user's "training book needs work" flag, always inside the transaction that
changes what the book is built from (reconciler.derivation.settle, activities.edits,
activities.deletion, the account's profile, a new threshold, gear), so that no change commits
without its rebuild being owed. The flag says only "look again": which loads and days
the change moved, the rebuild finds by comparing each activity's inputs with those its
stored load was built from (training.rebuild), so flags raised together cost one build."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
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

from activities.models import Activity, Gear
from training.models import Book

#: What a book is built from: an activity's round that ran one of these changed it (the
#: track, for loads and power; the summary, for the start time and sport).
INPUTS = frozenset({"track", "summary"})


def mark(user_ids: Iterable[int], *, now: datetime, fresh: bool = True,
         due_now: bool = False) -> None:
    """Say these users' books need work, creating the rows they lack (records.flags.mark's
    rules: fresh work is due now and goes first; backfill waits CAIRN_RECORDS_COALESCE_S
    unless `due_now`; every call bumps the generation; a dead book waits for a re-sync)."""
    ids = sorted(set(user_ids))
    if not ids:
        return
    priority = Book.Priority.FRESH if fresh else Book.Priority.BACKFILL
    wait = 0 if fresh or due_now else settings.CAIRN_RECORDS_COALESCE_S
    due = now + timedelta(seconds=wait)
    with transaction.atomic():  # the caller's, or its own
        Book.objects.bulk_create(
            [Book(user_id=i, due_at=due, pending_since=now, priority=priority) for i in ids],
            ignore_conflicts=True)
        rows = Book.objects.filter(user_id__in=ids).exclude(status=Book.Status.DEAD)
        # Locked in one order, so that two transactions flagging the same users cannot
        # deadlock.
        locked = list(rows.select_for_update().order_by("user_id").values_list("id", flat=True))
        idle = Q(needs_work=False)
        Book.objects.filter(id__in=locked).update(
            needs_work=True, generation=F("generation") + 1,
            pending_since=Case(When(idle, then=Value(now)), default=F("pending_since")),
            priority=Case(When(idle, then=Value(priority)),
                          default=Least(F("priority"), Value(priority)),
                          output_field=PositiveSmallIntegerField()),
            # A leased row's due_at is its lease expiry: left alone (its holder goes round
            # again when it settles, seeing the new generation).
            due_at=Case(When(lease_token__isnull=False, then=F("due_at")),
                        When(idle, then=Value(due)),
                        default=Least(F("due_at"), Value(due))),
            attempts=Case(When(idle & Q(lease_token__isnull=True), then=Value(0)),
                          default=F("attempts"), output_field=PositiveIntegerField()),
        )


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


def profile_changed(sender, *, user_id: int, now: datetime, **_) -> None:
    """A new time zone (activities' days) or maximum heart rate (the fallback of hr_max):
    activities.changes.zone_changed and max_hr_changed, in the profile's transaction."""
    mark([user_id], now=now)
