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

from django.db import connection

from activities import counted, times
from activities.models import Activity, Derived, Profile
from core import records
from core import track as tracks
from core.track import Track
from core.training import thresholds as core_thresholds
from training import thresholds

#: Tracks read per query.
CHUNK = 100
#: Activity ids per query where a build reads some activities' inputs.
ID_CHUNK = 500
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


def basis(user_id: int) -> dict:
    """What every activity's day and thresholds come from: the owner's time zone, their
    threshold history and the profile's maximum heart rate (stored with the book, so that
    the next build knows from which day a change of them moves anything)."""
    zone = Profile.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first()
    return {"zone": zone or "",
            "thresholds": [[entry.kind, entry.value, entry.effective.isoformat()]
                           for entry in thresholds.history(user_id)],
            "max_hr": thresholds.profile_max_hr(user_id)}


def _history(of: dict) -> list[core_thresholds.Threshold]:
    return [core_thresholds.Threshold(kind, float(value), date.fromisoformat(effective))
            for kind, value, effective in of["thresholds"]]


def moved_from(was: dict, now: dict) -> date | None:
    """The first day whose thresholds in force differ between two bases of the same time
    zone (None: none does). The values in force change only on an effective date, so
    comparing them on each such date (and before the first) finds it."""
    old, new = _history(was), _history(now)
    changes = sorted({date.min, *(entry.effective for entry in [*old, *new])})
    for day in changes:
        if (thresholds.in_force(old, day, was["max_hr"])
                != thresholds.in_force(new, day, now["max_hr"])):
            return day
    return None


def wanted(user_id: int, *, of: dict, ids: list[int] | None = None) -> dict[int, Input]:
    """Every live, processed activity with a stored track and summary (or those of `ids`),
    by id. Its day is its start's date in the owner's time zone (UTC until they choose
    one): the day its load counts on and whose thresholds it uses. Without timestamps it
    has no day (and no load: core.training.load.NO_TIMESTAMPS), and counts only for its
    gear. `of` is the user's basis()."""
    zone = times.zone(of["zone"] or None)
    history = _history(of)
    live = Activity.objects.counted().filter(owner_id=user_id, status=Activity.Status.READY)
    chunks = [live] if ids is None else [live.filter(id__in=ids[start:start + ID_CHUNK])
                                         for start in range(0, len(ids), ID_CHUNK)]
    shown: dict[int, tuple] = {}
    outputs: dict[int, dict[str, str]] = {}
    for chunk in chunks:
        shown |= {i: ((user or file or records.UNKNOWN_SPORT), start)
                  for i, user, file, start in chunk.values_list("id", "user_sport", "sport",
                                                                "start_time")}
        for activity_id, deriver, content in Derived.contents(
                Derived.objects.filter(activity_id__in=chunk.values("id"),
                                       deriver__in=DERIVERS, status=Derived.Status.READY)):
            outputs.setdefault(activity_id, {})[deriver] = content
    found = {}
    for activity_id, have in outputs.items():
        if activity_id not in shown or len(have) < len(DERIVERS):
            continue  # settled since the first read, or not summarised: the next round
        sport, start = shown[activity_id]
        day = times.local_date(start, None, zone) if start is not None else None
        values = thresholds.in_force(history, day, of["max_hr"]) if day is not None else {}
        found[activity_id] = Input(day=day, sport=sport, values=values, signature=[
            have["track"], have["summary"], sport, day.isoformat() if day else None,
            *(values.get(name) for name in thresholds.CORE_NAME.values())])
    return found


def candidates(user_id: int, *, since: date | None) -> list[int]:
    """The activities whose load a build that is not whole must look at: those with no
    load, or whose track's or summary's content or sport is not the one their load was
    built from, or whose load is on or after `since` (thresholds moved from that day);
    and those whose load is stored but that have no inputs any more (deleted, no longer
    ready). A superset of those whose signature moved (an output stored without a digest
    is always one), found by two queries that return only them."""
    vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"
    params = {"user_id": user_id, "since": since, "unknown": records.UNKNOWN_SPORT}
    with connection.cursor() as cursor:
        cursor.execute(MOVED.format(**CONTENT[vendor], counted=counted.where("a")), params)
        found = {row[0] for row in cursor.fetchall()}
        cursor.execute(GONE, params)
        found |= {row[0] for row in cursor.fetchall()}
    return sorted(found)


#: A load's stored track and summary contents (its signature's first two entries) and
#: the digests (hex) of the outputs now stored, in each database's words.
CONTENT = {
    "postgresql": {"track": "l.signature->>0", "summary": "l.signature->>1",
                   "track_now": "encode(t.digest, 'hex')",
                   "summary_now": "encode(s.digest, 'hex')"},
    "sqlite": {"track": "json_extract(l.signature, '$[0]')",
               "summary": "json_extract(l.signature, '$[1]')",
               "track_now": "lower(hex(t.digest))", "summary_now": "lower(hex(s.digest))"},
}

#: The user's ready activities with both inputs stored whose load is missing or was
#: built from other inputs (training.inputs.candidates).
MOVED = """
SELECT a.id
  FROM activities_activity AS a
  JOIN activities_derived AS t
    ON t.activity_id = a.id AND t.deriver = 'track' AND t.status = 'ready'
  JOIN activities_derived AS s
    ON s.activity_id = a.id AND s.deriver = 'summary' AND s.status = 'ready'
  LEFT JOIN training_activityload AS l ON l.activity_id = a.id
 WHERE a.owner_id = %(user_id)s AND {counted} AND a.status = 'ready'
   AND (l.id IS NULL OR t.digest IS NULL OR s.digest IS NULL
        OR {track} <> {track_now} OR {summary} <> {summary_now}
        OR l.sport <> COALESCE(NULLIF(a.user_sport, ''), NULLIF(a.sport, ''), %(unknown)s)
        OR l.day >= %(since)s)
"""

#: The user's loads whose activity has no inputs any more (training.inputs.candidates).
GONE = """
SELECT l.activity_id
  FROM training_activityload AS l
 WHERE l.user_id = %(user_id)s
   AND NOT EXISTS (
       SELECT 1
         FROM activities_activity AS a
         JOIN activities_derived AS t
           ON t.activity_id = a.id AND t.deriver = 'track' AND t.status = 'ready'
         JOIN activities_derived AS s
           ON s.activity_id = a.id AND s.deriver = 'summary' AND s.status = 'ready'
        WHERE a.id = l.activity_id AND a.owner_id = l.user_id AND """ + counted.where("a") + """
          AND a.status = 'ready')
"""


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
