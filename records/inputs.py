"""What a user's book is built from, read from the per-activity outputs (summaries, best
efforts, routes), never from tracks: a user with 10,000 activities is a few queries."""

from __future__ import annotations

import json
from collections.abc import Iterator

import numpy as np

from activities import times
from activities.models import Activity, Derived, Profile
from core import records

#: Read per query: the outputs of this many activities at a time.
CHUNK = 1000
DERIVERS = ("summary", "best_efforts", "route")


def wanted(user_id: int) -> dict[str, list]:
    """What the book should hold now, without the outputs' data: "<id>" -> [sport,
    summary's content, best_efforts', route's, the user's time zone]. A content is the
    output's digest (hex; its version and time where none is stored, "" when there is no
    output): a rebuild to the same bytes moves no signature. The user's zone is in every
    signature: activities without a zone of their own are counted on its dates, so a
    change rebuilds whole.

    Every build reads this for all the owner's activities (a merge compares it with the
    book's), so it reads no more than the signatures: no activity's times (facts() reads
    the chosen activities' own) and no output's (Derived.contents)."""
    sports = {i: (user or file or records.UNKNOWN_SPORT)
              for i, user, file in (Activity.objects.counted()
                                    .filter(owner_id=user_id, status=Activity.Status.READY)
                                    .values_list("id", "user_sport", "sport"))}
    zone = Profile.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first()
    contents: dict[int, dict[str, str]] = {}
    for activity_id, deriver, content in Derived.contents(
            Derived.objects.filter(activity_id__in=_counted(user_id), deriver__in=DERIVERS,
                                   status=Derived.Status.READY)):
        contents.setdefault(activity_id, {})[deriver] = content
    out = {}
    for activity_id, sport in sports.items():
        have = contents.get(activity_id, {})
        if "summary" in have:  # a book counts what it can show figures for
            out[str(activity_id)] = [sport, have["summary"], have.get("best_efforts", ""),
                                     have.get("route", ""), zone or ""]
    return out


def facts(ids: list[int], wanted: dict[str, list]) -> Iterator[tuple[records.Fact, list]]:
    """(Fact, route points) for these activities, a chunk of outputs at a time."""
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        times_of = {i: (begun, uploaded) for i, begun, uploaded in (
            Activity.objects.filter(id__in=chunk)
            .values_list("id", "start_time", "created_at"))}
        data: dict[int, dict[str, bytes]] = {}
        for activity_id, deriver, blob in (
                Derived.objects.filter(activity_id__in=chunk, deriver__in=DERIVERS,
                                       status=Derived.Status.READY)
                .values_list("activity_id", "deriver", "data")):
            data.setdefault(activity_id, {})[deriver] = bytes(blob)
        for activity_id in chunk:
            outputs = data.get(activity_id, {})
            if "summary" not in outputs or activity_id not in times_of:
                continue  # gone since `wanted` read it: the next round sees the change
            start_time, uploaded = times_of[activity_id]
            signature = wanted[str(activity_id)]
            summary = json.loads(outputs["summary"])
            efforts = json.loads(outputs["best_efforts"]) if "best_efforts" in outputs else {}
            route = json.loads(outputs["route"]) if "route" in outputs else {}
            # Where it began, its local date; without timestamps, the day it was uploaded
            # (in the user's zone, the zone it was uploaded from as far as Cairn knows).
            user_zone = times.zone(signature[4] if len(signature) > 4 else "")
            day = (times.local_date(start_time, summary.get("timezone"), user_zone)
                   if start_time is not None else times.local_date(uploaded, None, user_zone))
            yield records.Fact(activity_id=activity_id, sport=signature[0],
                               start_time=start_time, summary=summary, efforts=efforts,
                               signature=signature, day=day, undated=start_time is None
                               ), _segments(route)


def _segments(route: dict) -> list[np.ndarray]:
    """A route's points as one (n, 2) float32 array per recorded segment (a heatmap draws
    no line across a gap); float32 is under a metre of error and half the memory."""
    points = np.asarray(route.get("points") or [], dtype=np.float32).reshape(-1, 2)
    bounds = [*(route.get("segment_starts") or [0]), len(points)]
    return [points[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _counted(user_id: int):
    return Activity.objects.counted().filter(owner_id=user_id,
                                             status=Activity.Status.READY).values("id")
