"""Merging a probable duplicate into the one kept, and unmerging it: the owner's call
(the API and the activity page's buttons), in one transaction each.

A merge keeps one of a pair the check made (`duplicate_of`) as the primary (the owner's
choice, else the one the check kept: more data) and hides the other from what counts
(`merged_into`: Activity.objects.counted()); the primary takes the streams it lacks from
it as a revision (activities.revisions.take_streams), so that its outputs are derived
again through the loop. Unmerging shows it again and gives the streams back (a revision
without them: the primary's outputs as before, byte for byte). The owners' records,
training and segments follow by activities.changes.merged, the check by its own flag,
all in the change's transaction."""

from __future__ import annotations

from datetime import datetime

import structlog
from django.db import transaction

from activities import changes, revisions
from activities.models import Activity
from duplicates import flags

log = structlog.get_logger(__name__)


class NotAPair(Exception):
    """Not marked as a probable duplicate, or merged already (a sentence for the owner)."""


class BadPrimary(ValueError):
    """A primary that is neither of the pair."""


class NotMerged(Exception):
    pass


def merge(activity: Activity, *, primary_id: int | None = None,
          now: datetime) -> tuple[Activity, Activity, list[str]]:
    """Merge `activity`'s pair (it and its `duplicate_of`): (the primary, the one merged
    into it, the streams the primary took). NotAPair when it is not marked as a probable
    duplicate; BadPrimary when `primary_id` is neither of the two; revisions.NotReady
    when a track is being derived again."""
    with transaction.atomic():
        pair = sorted({activity.id, activity.duplicate_of_id or activity.id})
        locked = {a.id: a for a in Activity.objects.live().select_for_update()
                  .filter(id__in=pair).order_by("id")}
        marked = locked.get(activity.id)
        if marked is None or marked.duplicate_of_id is None or marked.merged_into_id:
            raise NotAPair(f"Activity {activity.id} is not marked as a probable duplicate.")
        kept = locked.get(marked.duplicate_of_id)
        if kept is None or kept.merged_into_id is not None:
            raise NotAPair(f"Activity {activity.id} is not marked as a probable duplicate.")
        chosen = kept.id if primary_id is None else primary_id
        if chosen not in locked:
            raise BadPrimary(f"primary is {kept.id} or {marked.id}, the two activities "
                             f"merged.")
        primary = locked[chosen]
        other = marked if primary is kept else kept
        Activity.objects.filter(id__in=pair).update(duplicate_of=None)
        Activity.objects.filter(id=other.id).update(merged_into=primary, merged_at=now)
        streams = revisions.take_streams(primary, other, now=now)
        changes.merged.send(sender=Activity, ids=[other.id], merged=True, now=now)
        flags.mark([primary.owner_id], now=now)
    log.info("activity.merged", activity_id=other.id, primary_id=primary.id, streams=streams)
    primary.refresh_from_db()
    other.refresh_from_db()
    return primary, other, streams


def unmerge(activity: Activity, *, now: datetime) -> Activity:
    """Show a merged activity again and give the primary's streams taken from it back;
    NotMerged when it is not merged. The check will find the pair again."""
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(id=activity.id)
        if locked.merged_into_id is None:
            raise NotMerged
        primary_id = locked.merged_into_id
        Activity.objects.filter(id=locked.id).update(merged_into=None, merged_at=None)
        revisions.give_back(primary_id, locked.id, now=now)
        changes.merged.send(sender=Activity, ids=[locked.id], merged=False, now=now)
        flags.mark([locked.owner_id], now=now)
    log.info("activity.unmerged", activity_id=locked.id, primary_id=primary_id)
    locked.refresh_from_db()
    return locked


def deleted(sender, *, ids: list[int], now: datetime, **_) -> None:
    """Activities deleted (activities.changes.deleted, in the deletion's transaction):
    one merged into a deleted one counts again (unmerged); a deleted one merged into
    another gives its streams back."""
    shown = list(Activity.objects.live().filter(merged_into_id__in=ids)
                 .values_list("id", flat=True))
    if shown:
        Activity.objects.filter(id__in=shown).update(merged_into=None, merged_at=None)
        changes.merged.send(sender=Activity, ids=shown, merged=False, now=now)
    for giver, primary in (Activity.objects.filter(id__in=ids, merged_into__isnull=False)
                           .exclude(merged_into_id__in=ids)
                           .values_list("id", "merged_into_id")):
        revisions.give_back(primary, giver, now=now)
    for activity_id in shown:
        log.info("activity.unmerged", activity_id=activity_id, reason="primary_deleted")
