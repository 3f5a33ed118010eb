"""What the segments API answers: a segment as JSON, and efforts best first with their
rank (1 + the efforts on the segment strictly faster: read, never stored, so that a
delete or a better effort moves every rank at once) and their activity's name and date."""

from __future__ import annotations

import base64
import math
from datetime import timedelta

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from activities import names
from segments.models import Effort, Segment

LIMIT_DEFAULT, LIMIT_MAX = 30, 200


def iso(moment) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def segment(row: Segment, *, points: bool = True) -> dict:
    out = {"id": row.id, "name": row.name, "distance_m": round(row.distance_m, 1),
           "ascent_m": None if row.ascent_m is None else round(row.ascent_m, 1),
           "polyline": row.polyline,
           "bbox": {"min_lat": row.min_lat, "min_lon": row.min_lon, "max_lat": row.max_lat,
                    "max_lon": row.max_lon},
           "created_at": iso(row.created_at),
           "matching": row.needs_work, "status": row.status}
    if points:
        out["points"] = [[p[0], p[1]] for p in row.points]
        out["elevation_m"] = [p[2] for p in row.points]
    return out


def ranked(efforts: QuerySet[Effort]) -> QuerySet[Effort]:
    """The efforts with `rank`: one probe of effort_best each."""
    faster = (Effort.objects.filter(segment=OuterRef("segment"),
                                    elapsed_s__lt=OuterRef("elapsed_s"))
              .order_by().values("segment").annotate(n=Count("id")).values("n"))
    return efforts.annotate(rank=Coalesce(Subquery(faster, output_field=IntegerField()),
                                          Value(0)) + 1)


def efforts(rows: list[Effort]) -> list[dict]:
    """Ranked efforts (select_related segment, activity and its upload) as JSON."""
    activities = list({e.activity_id: e.activity for e in rows}.values())
    shown = names.shown_all(activities, names.summaries(activities)) if activities else {}
    out = []
    for e in rows:
        start = e.activity.start_time
        out.append({
            "id": e.id, "segment_id": e.segment_id, "segment_name": e.segment.name,
            "activity_id": e.activity_id, "activity_name": shown[e.activity_id],
            "activity_start_time": iso(start),
            "start_time": iso(start + timedelta(seconds=e.start_offset_s)) if start else None,
            "lap": e.lap, "start_index": e.start_index, "end_index": e.end_index,
            "start_offset_s": round(e.start_offset_s, 2), "end_offset_s": round(e.end_offset_s, 2),
            "elapsed_s": round(e.elapsed_s, 2), "moving_s": round(e.moving_s, 2),
            "average_speed_mps": round(e.average_speed_mps, 3),
            "average_hr_bpm": None if e.average_hr is None else round(e.average_hr, 1),
            "average_power_w": None if e.average_power is None else round(e.average_power, 1),
            "rank": e.rank, "personal_best": e.rank == 1,
        })
    return out


def cursor_of(row: Effort) -> str:
    return base64.urlsafe_b64encode(f"{row.elapsed_s!r}:{row.id}".encode()).decode()


def parse_cursor(raw: str) -> tuple[float, int]:
    """(elapsed_s, id) after which a page starts; ValueError when it is no cursor."""
    try:
        elapsed, effort_id = base64.urlsafe_b64decode(raw.encode()).decode().split(":")
        found = float(elapsed), int(effort_id)
    except (ValueError, UnicodeError) as error:
        raise ValueError(raw) from error
    if not math.isfinite(found[0]) or not 0 <= found[1] < 10**18:
        raise ValueError(raw)
    return found
