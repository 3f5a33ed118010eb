"""Segments as the API makes and edits them: a body checked (with a message for people),
a segment made from drawn points or from a stretch of an activity's track, and stored
with its cell and its backfill owed in one transaction."""

from __future__ import annotations

import math
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from activities.models import Activity
from core.segments import cells, shape
from segments import matching
from segments.models import Segment, SegmentCell

NAME_MAX = 255
#: Points a drawn segment may have: a 100 km road at one point every 10 m.
POINTS_MAX = 10_000
#: Ids have at most 18 digits (as in URLs): a larger number names nothing.
ID_MAX = 10**18 - 1


class Invalid(ValueError):
    """A body that makes no segment; its message says what to send."""


class NoActivity(LookupError):
    """The activity named is not one of the owner's."""


def name(body: dict) -> str:
    value = body.get("name")
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= NAME_MAX \
            or not value.isprintable():
        raise Invalid(f"name is 1 to {NAME_MAX} printable characters.")
    return value.strip()


def _whole(body: dict, key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(f"{key} is a whole number: an index into the activity's track points.")
    return value


def _number(value: object) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def parse(body: object, *, owner_id: int) -> tuple[str, shape.Segment]:
    """(name, shape) of a POST: `name` and either `points` or `activity_id`,
    `start_index` and `end_index`. NoActivity when that activity is not the owner's."""
    if not isinstance(body, dict):
        raise Invalid('Send a JSON object: {"name", "points": [[lat, lon], ...]} or '
                      '{"name", "activity_id", "start_index", "end_index"}.')
    from_points = "points" in body
    allowed = {"name", "points"} if from_points else {"name", "activity_id", "start_index",
                                                      "end_index"}
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(unknown)}; send either points or "
                      "activity_id, start_index and end_index.")
    given = name(body)
    if from_points:
        return given, _drawn(body["points"])
    activity_id = body.get("activity_id")
    if isinstance(activity_id, bool) or not isinstance(activity_id, int) \
            or not 1 <= activity_id <= ID_MAX:
        raise Invalid("activity_id is the id of one of your activities.")
    start, end = _whole(body, "start_index"), _whole(body, "end_index")
    if not Activity.objects.live().filter(id=activity_id, owner_id=owner_id).exists():
        raise NoActivity(activity_id)
    track = next((t for _, t in matching.tracks_of([activity_id])), None)
    if track is None:
        raise Invalid("That activity has no track yet: wait until it is processed.")
    try:
        return given, shape.from_track(track, start_index=start, end_index=end)
    except ValueError as error:
        raise Invalid(f"{error} ({track.n} points).") from None


def _drawn(points: object) -> shape.Segment:
    if not isinstance(points, list) or not 2 <= len(points) <= POINTS_MAX:
        raise Invalid(f"points is a list of 2 to {POINTS_MAX} [lat, lon] pairs.")
    for point in points:
        if not (isinstance(point, list) and len(point) in (2, 3)
                and all(_number(v) for v in point[:2])
                and (len(point) == 2 or point[2] is None or _number(point[2]))):
            raise Invalid("Each point is [lat, lon] or [lat, lon, elevation] in degrees "
                          "and metres.")
    try:
        return shape.from_points(points)
    except ValueError as error:
        raise Invalid(f"{error}.") from None


def create(owner: AbstractBaseUser, given: str, segment: shape.Segment, *,
           now: datetime) -> Segment:
    """Store the segment under its start's cell, its backfill over the owner's activities
    owed from now (behind fresh uploads), in one transaction."""
    start = cells.start_cell(segment)
    with transaction.atomic():
        made = Segment.objects.create(
            owner=owner, name=given, points=matching.points_of(segment),
            polyline=segment.polyline, distance_m=segment.distance_m,
            ascent_m=segment.ascent_m, **segment.bbox, start_cell=start, created_at=now,
            needs_work=True, due_at=now, pending_since=now,
            priority=Segment.Priority.BACKFILL)
        SegmentCell.objects.create(owner=owner, cell=start, segment=made)
    return made
