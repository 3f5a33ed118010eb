"""Matching one activity against its owner's segments near it: the segment_match kind's
work (segments.kind leases and releases it). The candidates come from the cells of the
track's path (segments.matching.near); the efforts found replace the activity's own,
under the fence, in one transaction."""

from __future__ import annotations

import time

import structlog
from django.db import transaction

from core.segments import match
from segments import matching
from segments.models import ActivityMatch, Effort
from work import clock, leases
from work.kinds import Kind
from work.leases import Lease
from work.outcomes import Done, Outcome

log = structlog.get_logger(__name__)


def run(kind: Kind, lease: Lease) -> Outcome:
    """Match the leased row's activity; Done with its bounding box and the version that
    matched it. An activity without a track (not processed yet, failed, indoors) has no
    efforts: its next track flags it again."""
    started = time.monotonic()
    row = ActivityMatch.objects.values("activity_id", "owner_id").filter(id=lease.row_id).first()
    if row is None:  # its activity was deleted meanwhile: nothing left to do
        return Done()
    activity_id, owner_id = row["activity_id"], row["owner_id"]
    found, candidates, box = {}, [], matching.bbox_none()
    for _, track in matching.tracks_of([activity_id]):
        box = matching.bbox(track)
        candidates = matching.near(owner_id, track)
        tolerance = matching.tolerance_m()
        prepared = match.prepare(track)
        for segment_id, segment in matching.shapes(candidates).items():
            efforts = match.match(track, segment, tolerance_m=tolerance, prepared=prepared)
            if efforts:
                found[segment_id] = efforts
    now = clock.now()
    with transaction.atomic():
        # Segments first, then the row (the order every writer of efforts keeps).
        alive = matching.live_segments(found)
        leases.hold(kind, lease, now=now)
        Effort.objects.filter(activity_id=activity_id).delete()
        written = [effort for segment_id in sorted(alive)
                   for effort in matching.rows(segment_id, activity_id, found[segment_id])]
        Effort.objects.bulk_create(written)
    detail = {"candidates": len(candidates), "efforts": len(written),
              "duration_ms": round((time.monotonic() - started) * 1000)}
    log.info("segments.matched", activity_id=activity_id, **detail)
    return Done(fields={**box, "version": match.VERSION, "matched_at": now,
                        "status": ActivityMatch.Status.READY, "candidates": len(candidates),
                        "efforts": len(written), "error_code": "", "error_message": ""},
                detail=detail)
