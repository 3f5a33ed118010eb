"""What both directions of matching share: the tolerance, an activity's stored track,
segments as core shapes, the segments near a track (the cells), and writing the efforts
found (inside a transaction the caller fenced)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
from django.conf import settings
from django.db import connection

from activities.models import Activity, Derived
from core import geo
from core import track as tracks
from core.segments import cells, shape
from core.segments.effort import Effort as Found
from core.track import Track
from segments.models import Effort, Segment, SegmentCell

#: Tracks read per query, and cells per IN list (SQLite's limit on parameters).
CHUNK = 100
CELLS_PER_QUERY = 500

#: The live segments among %(ids)s, held against a delete until the caller commits (the
#: efforts about to be written point at them); PostgreSQL. SQLite's IMMEDIATE
#: transactions serialise writers: a plain read there.
LIVE_SEGMENTS = """
SELECT id FROM segments_segment WHERE id = ANY(%(ids)s::bigint[]) FOR KEY SHARE
"""


def tolerance_m() -> float:
    return float(settings.CAIRN_SEGMENTS_TOLERANCE_M)


def tracks_of(activity_ids: list[int]) -> Iterator[tuple[int, Track]]:
    """(activity id, its stored track) for those of `activity_ids` that count (not
    deleted, not merged) and have one, a chunk at a time."""
    for start in range(0, len(activity_ids), CHUNK):
        part = activity_ids[start:start + CHUNK]
        live = Activity.objects.counted().filter(id__in=part).values("id")
        blobs = dict(Derived.objects.filter(activity_id__in=live, deriver="track",
                                            status=Derived.Status.READY)
                     .values_list("activity_id", "data"))
        for activity_id in part:
            if blobs.get(activity_id) is not None:
                yield activity_id, tracks.decode(bytes(blobs[activity_id]))


#: What shape_of reads of a Segment row.
SHAPE_FIELDS = ("id", "points", "distance_m", "ascent_m", "polyline", "min_lat", "min_lon",
                "max_lat", "max_lon")


def shape_of(row: dict) -> shape.Segment:
    """The stored segment as core's shape: its points and the figures stored with them
    (computed from those points when it was made), so nothing is computed again."""
    points = np.array([[p[0], p[1], np.nan if p[2] is None else p[2]] for p in row["points"]],
                      dtype=np.float64)
    return shape.Segment(lat=points[:, 0], lon=points[:, 1], ele=points[:, 2],
                         distance_m=row["distance_m"], ascent_m=row["ascent_m"],
                         polyline=row["polyline"],
                         bbox={k: row[k] for k in ("min_lat", "min_lon", "max_lat", "max_lon")})


def points_of(segment: shape.Segment) -> list[list[float | None]]:
    """A shape's points as stored: [lat, lon, elevation or null]."""
    return [[float(a), float(b), None if not np.isfinite(c) else round(float(c), 1)]
            for a, b, c in zip(segment.lat, segment.lon, segment.ele, strict=True)]


def near(owner_id: int, track: Track) -> list[int]:
    """The owner's segments whose start cell lies within the tolerance of the track's
    path: one probe of (owner, cell) per cell, never a read of every segment."""
    wanted = cells.cells_for_track(track, margin_m=tolerance_m())
    found: set[int] = set()
    for start in range(0, len(wanted), CELLS_PER_QUERY):
        found.update(SegmentCell.objects.filter(
            owner_id=owner_id, cell__in=wanted[start:start + CELLS_PER_QUERY])
            .values_list("segment_id", flat=True))
    return sorted(found)


def shapes(segment_ids: list[int]) -> dict[int, shape.Segment]:
    return {row["id"]: shape_of(row) for row in
            Segment.objects.filter(id__in=segment_ids).values(*SHAPE_FIELDS)}


BOX = ("min_lat", "min_lon", "max_lat", "max_lon")


def bbox(track: Track) -> dict[str, float | None]:
    """The track's bounding box as ActivityMatch stores it (nulls without positions)."""
    box = geo.bbox(track.lat, track.lon) if track.n else None
    return {k: (box[k] if box else None) for k in BOX}


def bbox_none() -> dict[str, None]:
    return dict.fromkeys(BOX)


def live_segments(ids: Iterable[int]) -> set[int]:
    """Which of these segments still exist, held until the caller commits (PostgreSQL:
    a delete waits; SQLite serialises writers)."""
    ids = sorted(set(ids))
    if not ids:
        return set()
    if connection.vendor != "postgresql":
        return set(Segment.objects.filter(id__in=ids).values_list("id", flat=True))
    with connection.cursor() as cursor:
        cursor.execute(LIVE_SEGMENTS, {"ids": ids})
        return {row[0] for row in cursor.fetchall()}


def rows(segment_id: int, activity_id: int, found: list[Found]) -> list[Effort]:
    """The Effort rows of one activity's passages over one segment, laps in order."""
    return [Effort(segment_id=segment_id, activity_id=activity_id, lap=lap,
                   start_index=e.start_index, end_index=e.end_index,
                   start_offset_s=e.start_offset_s, end_offset_s=e.end_offset_s,
                   elapsed_s=e.elapsed_s, moving_s=e.moving_s,
                   average_speed_mps=e.average_speed_mps, average_hr=e.average_hr,
                   average_power=e.average_power)
            for lap, e in enumerate(found)]
