"""Matching a new segment against its owner's activities: the segment kind's work
(segments.kind leases and releases it), a chunk of activities per lease, the cursor
moved under the fence with the chunk's efforts, so that a worker killed mid-way costs
the next one that chunk again and nothing else (efforts are replaced per pair, never
added twice).

Which activities: the owner's ActivityMatch rows after the cursor whose bounding box,
grown by the tolerance, holds the segment's start (no track is read for the others), and
those still pending. Only an idle row whose generation has not moved since its track was
read is written here; a row being matched (or flagged since) is asked again instead (its
generation bumped), and that match, which reads the segments after this one was created,
finds it. So exactly one writer ever holds an activity's efforts, and none is missed."""

from __future__ import annotations

import math
import time

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from core import geo
from core.segments import match
from segments import flags, matching
from segments.models import ActivityMatch, Effort, Segment
from work import clock, leases
from work.kinds import Kind
from work.leases import Lease
from work.outcomes import Done, Outcome

log = structlog.get_logger(__name__)

_M_PER_DEG = math.radians(1.0) * geo.EARTH_RADIUS_M


def run(kind: Kind, lease: Lease) -> Outcome:
    """One chunk of the leased segment's backfill; Done, due again while more remain."""
    started = time.monotonic()
    stored = Segment.objects.filter(id=lease.row_id).values(
        *matching.SHAPE_FIELDS, "owner_id", "backfill_after").first()
    if stored is None:  # deleted meanwhile: nothing left to do
        return Done()
    segment = Segment(**stored)
    chunk = settings.CAIRN_SEGMENTS_BACKFILL_CHUNK
    rows = candidates(segment, limit=chunk)
    shape = matching.shape_of(stored)
    tolerance = matching.tolerance_m()
    read = {row["id"]: row["generation"] for row in rows if not row["needs_work"]}
    by_activity = {row["activity_id"]: row["id"] for row in rows}
    found: dict[int, list] = {}
    for activity_id, track in matching.tracks_of(sorted(by_activity)):
        if by_activity[activity_id] in read:
            found[by_activity[activity_id]] = match.match(track, shape, tolerance_m=tolerance)
    now = clock.now()
    with transaction.atomic():
        leases.hold(kind, lease, now=now)  # the segment first, then the activities' rows
        locked = list(ActivityMatch.objects.select_for_update()
                      .filter(id__in=[row["id"] for row in rows]).order_by("id")
                      .values("id", "activity_id", "generation", "needs_work"))
        # Pending, being matched, or flagged since its track was read: matched again
        # (a pending row's generation bumped), so that a match which read the segments
        # before this one existed goes round once more.
        busy = [row for row in locked if row["needs_work"] or row["id"] not in found
                or row["generation"] != read[row["id"]]]
        flags.mark([(row["activity_id"], segment.owner_id) for row in busy], now=now,
                   fresh=False)
        asked = len(busy)
        fresh = [row for row in locked if row not in busy]
        Effort.objects.filter(segment_id=segment.id,
                              activity_id__in=[row["activity_id"] for row in fresh]).delete()
        efforts = [effort for row in fresh
                   for effort in matching.rows(segment.id, row["activity_id"], found[row["id"]])]
        Effort.objects.bulk_create(efforts)
        written = len(efforts)
        last = rows[-1]["id"] if rows else segment.backfill_after
        Segment.objects.filter(id=segment.id).update(backfill_after=last)
    more = len(rows) == chunk
    detail = {"activities_read": len(found), "candidates": len(rows), "asked_again": asked,
              "efforts": written, "after": last,
              "duration_ms": round((time.monotonic() - started) * 1000)}
    log.info("segments.backfilled", segment_id=segment.id, more=more, **detail)
    if more:
        return Done(detail=detail, again=True)
    return Done(fields={"status": Segment.Status.READY, "backfilled_at": now,
                        "error_code": "", "error_message": ""}, detail=detail)


def candidates(segment: Segment, *, limit: int) -> list[dict]:
    """The next `limit` of the owner's ActivityMatch rows after the cursor that may pass
    the segment's start: pending ones, and matched ones whose box (grown by the
    tolerance) holds it. Walks the owner's rows by id (segment_match_owner)."""
    lat, lon = segment.points[0][0], segment.points[0][1]
    dlat = matching.tolerance_m() / _M_PER_DEG
    dlon = dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    near = Q(min_lat__lte=lat + dlat, max_lat__gte=lat - dlat,
             min_lon__lte=lon + dlon, max_lon__gte=lon - dlon)
    return list(ActivityMatch.objects
                .filter(owner_id=segment.owner_id, id__gt=segment.backfill_after)
                .filter(Q(needs_work=True) | near)
                .order_by("id").values("id", "activity_id", "generation", "needs_work")
                [:limit])
