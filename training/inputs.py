"""What a user's training book is built from: each processed activity's day, sport,
stored track and summary (their contents' digests: a rebuild to the same bytes, at a new
version or not, moves nothing), and the thresholds in force on its day. The signature of
those is what an ActivityLoad was built from: a rebuild recomputes the activities whose
signature moved, and only those."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from activities import times
from activities.models import Activity, Derived, Profile
from core import records
from core import track as tracks
from core.track import Track
from training import thresholds

#: Tracks read per query.
CHUNK = 100
DERIVERS = ("track", "summary")


@dataclass(frozen=True)
class Input:
    day: date | None
    sport: str
    #: [track's content, summary's content, sport, day, ftp_w, lthr, hr_rest, hr_max];
    #: a content is its digest (hex), or its version and time where no digest is stored
    signature: list
    #: The thresholds in force on `day` (load.activity_load's keywords).
    values: dict[str, float]


def wanted(user_id: int) -> dict[int, Input]:
    """Every live, processed activity with a stored track and summary, by id. Its day is
    its start's date in the owner's time zone (UTC until they choose one): the day its
    load counts on and whose thresholds it uses. Without timestamps it has no day (and no
    load: core.training.load.NO_TIMESTAMPS), and counts only for its gear."""
    zone = times.zone(Profile.objects.filter(user_id=user_id)
                      .values_list("time_zone", flat=True).first())
    history = thresholds.history(user_id)
    fallback = thresholds.profile_max_hr(user_id)
    live = Activity.objects.live().filter(owner_id=user_id, status=Activity.Status.READY)
    shown = {i: ((user or file or records.UNKNOWN_SPORT), start)
             for i, user, file, start in live.values_list("id", "user_sport", "sport",
                                                          "start_time")}
    outputs: dict[int, dict[str, str]] = {}
    for activity_id, deriver, digest, version, updated in (
            Derived.objects.filter(activity_id__in=live.values("id"), deriver__in=DERIVERS,
                                   status=Derived.Status.READY)
            .values_list("activity_id", "deriver", "digest", "version", "updated_at")):
        outputs.setdefault(activity_id, {})[deriver] = Derived.content(
            digest, version, updated)
    found = {}
    for activity_id, have in outputs.items():
        if activity_id not in shown or len(have) < len(DERIVERS):
            continue  # settled since the first read, or not summarised: the next round
        sport, start = shown[activity_id]
        day = times.local_date(start, None, zone) if start is not None else None
        values = thresholds.in_force(history, day, fallback) if day is not None else {}
        found[activity_id] = Input(day=day, sport=sport, values=values, signature=[
            have["track"], have["summary"], sport, day.isoformat() if day else None,
            *(values.get(name) for name in thresholds.CORE_NAME.values())])
    return found


def stored(ids: list[int]) -> Iterator[tuple[int, Track, dict]]:
    """(activity id, its decoded track, its summary), a chunk at a time; an activity whose
    outputs went meanwhile is left out (the next round sees the change)."""
    for start in range(0, len(ids), CHUNK):
        data: dict[int, dict[str, bytes]] = {}
        for activity_id, deriver, blob in (
                Derived.objects.filter(activity_id__in=ids[start:start + CHUNK],
                                       deriver__in=DERIVERS, status=Derived.Status.READY)
                .values_list("activity_id", "deriver", "data")):
            data.setdefault(activity_id, {})[deriver] = bytes(blob)
        for activity_id in ids[start:start + CHUNK]:
            found = data.get(activity_id, {})
            if len(found) == len(DERIVERS):
                yield (activity_id, tracks.decode(found["track"]),
                       json.loads(found["summary"]))
