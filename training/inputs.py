"""What a user's training book is built from: each dated, processed activity's day,
sport and stored track (its version and when its bytes last changed), and the thresholds
in force on its day. The signature of those is what an ActivityLoad was built from: a
rebuild recomputes the activities whose signature moved, and only those."""

from __future__ import annotations

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


@dataclass(frozen=True)
class Input:
    day: date
    sport: str
    #: [track version, track updated_at, sport, day, ftp_w, lthr, hr_rest, hr_max]
    signature: list
    #: The thresholds in force on `day` (load.activity_load's keywords).
    values: dict[str, float]


def wanted(user_id: int) -> dict[int, Input]:
    """Every live, processed activity with a start time and a stored track, by id. Its
    day is its start's date in the owner's time zone (UTC until they choose one): the
    day its load counts on and whose thresholds it uses. Activities without timestamps
    have no load (core.training.load.NO_TIMESTAMPS) and no day: they are left out."""
    zone = times.zone(Profile.objects.filter(user_id=user_id)
                      .values_list("time_zone", flat=True).first())
    history = thresholds.history(user_id)
    fallback = thresholds.profile_max_hr(user_id)
    live = (Activity.objects.live()
            .filter(owner_id=user_id, status=Activity.Status.READY, start_time__isnull=False))
    shown = {i: ((user or file or records.UNKNOWN_SPORT), start)
             for i, user, file, start in live.values_list("id", "user_sport", "sport",
                                                          "start_time")}
    found = {}
    for activity_id, version, updated in (
            Derived.objects.filter(activity_id__in=live.values("id"), deriver="track",
                                   status=Derived.Status.READY)
            .values_list("activity_id", "version", "updated_at")):
        if activity_id not in shown:
            continue  # settled since the first read: the next round sees it
        sport, start = shown[activity_id]
        day = times.local_date(start, None, zone)
        values = thresholds.in_force(history, day, fallback)
        found[activity_id] = Input(day=day, sport=sport, values=values, signature=[
            version, updated.isoformat(), sport, day.isoformat(),
            *(values.get(name) for name in thresholds.CORE_NAME.values())])
    return found


def stored_tracks(ids: list[int]) -> Iterator[tuple[int, Track]]:
    """(activity id, its decoded track), a chunk of tracks at a time; an activity whose
    track went meanwhile is left out (the next round sees the change)."""
    for start in range(0, len(ids), CHUNK):
        for activity_id, blob in (
                Derived.objects.filter(activity_id__in=ids[start:start + CHUNK],
                                       deriver="track", status=Derived.Status.READY)
                .values_list("activity_id", "data")):
            yield activity_id, tracks.decode(bytes(blob))
