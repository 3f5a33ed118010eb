"""An owner's revisions of an activity: crop, remove a stretch, split in two, restore an
earlier revision. Each is a new Revision row and the activity's current edits, written in
one transaction with the announcement (changes.revised) that has its track derived again
(the reconciler flags it there); the original file is never touched. The edits are data
(core.revisions); the track deriver applies them to the original it decodes."""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.db import transaction

from activities import changes
from activities.models import Activity, Derived, Revision
from core import revisions
from core import track as tracks
from core.revisions import EditError
from work import tracing, triggers

__all__ = ["EditError", "NotReady", "crop", "remove", "split", "restore", "take_streams",
           "give_back", "track_inputs"]


#: The streams a merge may take (core.revisions.TAKEN_STREAMS), as a sentence names them.
STREAM_WORDS = {"hr": "heart rate", "cadence": "cadence", "power": "power"}


def in_words(streams) -> str:
    """Streams taken, as a sentence names them: "heart rate, cadence"."""
    return ", ".join(STREAM_WORDS.get(name, name) for name in streams)


class NotReady(Exception):
    """The activity's track is not derived at its current revision yet."""


def track_inputs(activity_id: int) -> list:
    """What the track deriver is given: the original's bytes and the current edits, and
    when those take streams from an activity merged into this one (core.revisions.take),
    that one's original and edits (None when it is gone: deleted meanwhile)."""
    from activities import storage

    name, edits = Activity.objects.values_list("file_name", "edits").get(id=activity_id)
    taking = (edits or {}).get("take")
    if not taking:
        return [storage.read_original(name), edits]
    giver = (Activity.objects.live().filter(id=taking["from"])
             .values_list("file_name", "edits").first())
    return [storage.read_original(name), edits,
            None if giver is None else (storage.read_original(giver[0]), giver[1])]


def crop(activity: Activity, *, start_s: float, end_s: float, now: datetime) -> Revision:
    """Keep [start_s, end_s], seconds from the start of the activity as it is now."""
    return _revise(activity, Revision.Action.CROP, now=now,
                   detail={"start_s": start_s, "end_s": end_s},
                   edits=lambda edits, track: revisions.cropped(edits, track, start_s, end_s))


def remove(activity: Activity, *, from_s: float, to_s: float, now: datetime) -> Revision:
    """Leave out the stretch between from_s and to_s (seconds from the start)."""
    return _revise(activity, Revision.Action.REMOVE, now=now,
                   detail={"from_s": from_s, "to_s": to_s},
                   edits=lambda edits, track: revisions.removed(edits, track, from_s, to_s))


def restore(activity: Activity, *, number: int, now: datetime) -> Revision:
    """A new revision with the edits of revision `number` (0: the original); LookupError
    when there is no such revision."""
    if number == 0:
        edits = None
    else:
        found = activity.revisions.filter(number=number).values_list("edits", flat=True)
        if not found:
            raise LookupError(number)
        edits = found[0] or None
    taking = (edits or {}).get("take")
    if taking and not Activity.objects.filter(id=taking["from"],
                                              merged_into_id=activity.id).exists():
        # Streams are taken only from an activity merged into this one, never from one
        # unmerged since: restoring that revision restores its crop and removals alone.
        edits = revisions.own(edits) or None
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(id=activity.id)
        revision = _record(locked, Revision.Action.RESTORE, edits, {"number": number})
        _announce([locked, *_takers(locked)], now=now)
    return revision


def take_streams(activity: Activity, giver: Activity, *, now: datetime) -> list[str]:
    """In the caller's transaction (a merge, duplicates.merging): a new revision of
    `activity` taking from `giver` the streams (core.revisions.TAKEN_STREAMS) it has no
    value of, aligned by time, when there are any and it takes from no other activity
    already. The streams taken ([]: none, and no revision). NotReady when either track
    is not derived yet."""
    locked = Activity.objects.select_for_update().get(id=activity.id)
    if (locked.edits or {}).get("take"):
        return []  # one giver at a time: a third recording's merge takes nothing more
    streams = revisions.takeable(current_track(locked), current_track(giver))
    if not streams:
        return []
    edits = {**revisions.own(locked.edits), "take": {"from": giver.id, "streams": streams}}
    _record(locked, Revision.Action.MERGE, edits, {"from": giver.id, "streams": streams})
    _announce([locked], now=now)
    return streams


def give_back(activity_id: int, giver_id: int, *, now: datetime) -> bool:
    """In the caller's transaction (an unmerge, a deletion): a new revision of the
    activity without the streams it took from `giver_id`, when it holds them; its
    outputs come out as before the merge, byte for byte. Whether there was one."""
    locked = Activity.objects.select_for_update().filter(id=activity_id).first()
    taking = ((locked.edits or {}).get("take") or {}) if locked is not None else {}
    if taking.get("from") != giver_id:
        return False
    _record(locked, Revision.Action.UNMERGE, revisions.own(locked.edits) or None,
            {"from": giver_id})
    _announce([locked], now=now)
    return True


def split(activity: Activity, *, at_s: float, now: datetime) -> Activity:
    """Split at `at_s` seconds from the start: the activity keeps what comes before (up to
    the first point at or after it), a new activity gets the rest. The new one."""
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(id=activity.id)
        first, second = revisions.split(locked.edits or {}, current_track(locked), at_s)
        _record(locked, Revision.Action.SPLIT, first, {"at_s": at_s})
        part = Activity.objects.create(
            owner_id=locked.owner_id, upload_id=locked.upload_id, name="",
            description=locked.description, trainer=locked.trainer, commute=locked.commute,
            user_sport=locked.user_sport, gear_id=locked.gear_id, format=locked.format,
            sha256=split_sha256(locked, locked.revision), file_name=locked.file_name,
            size_bytes=locked.size_bytes, created_at=now, due_at=now, pending_since=now,
            priority=Activity.Priority.FRESH, edits=second, revision=1, split_from=locked,
            trace_parent=tracing.parent())
        Revision.objects.create(activity=part, number=1, action=Revision.Action.SPLIT,
                                edits=second, detail={"at_s": at_s, "from": locked.id})
        _announce([locked, part, *_takers(locked)], now=now)
    return part


def split_sha256(activity: Activity, revision: int) -> str:
    """What names a split's new part's content (the original, split at this revision):
    never an upload's digest, so the original uploaded again still finds the first."""
    return hashlib.sha256(f"{activity.sha256}/split/{activity.id}/{revision}".encode()
                          ).hexdigest()


def current_track(activity: Activity) -> tracks.Track:
    """The activity's track at its current revision, or NotReady."""
    blob = (Derived.objects.filter(activity=activity, deriver="track",
                                   status=Derived.Status.READY, data__isnull=False)
            .values_list("data", flat=True).first())
    if blob is None:
        raise NotReady
    return tracks.decode(bytes(blob))


def history(activity: Activity) -> list[dict]:
    """Every revision, the original first, and which one is current."""
    rows = [{"number": 0, "action": "original", "detail": {}, "created_at": activity.created_at,
             "edits": None}]
    rows += [{"number": r.number, "action": r.action, "detail": r.detail,
              "created_at": r.created_at, "edits": r.edits}
             for r in activity.revisions.order_by("number")]
    for row in rows:
        row["current"] = row["number"] == activity.revision
    return rows


def _revise(activity: Activity, action: str, *, now: datetime, detail: dict,
            edits) -> Revision:
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(id=activity.id)
        new = edits(locked.edits or {}, current_track(locked))
        revision = _record(locked, action, new, detail)
        _announce([locked, *_takers(locked)], now=now)
    return revision


def _record(activity: Activity, action: str, edits: dict | None, detail: dict) -> Revision:
    number = activity.revision + 1
    revision = Revision.objects.create(activity=activity, number=number, action=action,
                                       edits=edits or {}, detail=detail)
    Activity.objects.filter(id=activity.id).update(revision=number, edits=edits or None)
    activity.revision, activity.edits = number, edits or None
    return revision


def _takers(activity: Activity) -> list[Activity]:
    """The activity this one is merged into, when it takes streams from this one: its
    track is derived from this one's revision too, so it is derived again with it."""
    if activity.merged_into_id is None:
        return []
    primary = Activity.objects.filter(id=activity.merged_into_id).first()
    taking = ((primary.edits or {}).get("take") or {}) if primary is not None else {}
    return [primary] if taking.get("from") == activity.id else []


def _announce(activities: list[Activity], *, now: datetime) -> None:
    """Their tracks are derived again (changes.revised, in the caller's transaction), and
    a worker is told after the commit."""
    changes.revised.send(sender=Activity, ids=[a.id for a in activities], now=now)
    for activity in activities:
        _start(activity)


def _start(activity: Activity) -> None:
    triggers.after_commit("activity", activity.id, size_bytes=activity.size_bytes)
