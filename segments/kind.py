"""Segments as two kinds of reconciled work (work.kinds): "segment_match", an activity
matched against the segments near it (fresh uploads first, then re-derived tracks and
version bumps), and "segment", a new segment's backfill over its owner's activities,
always behind them. Their work is segments.scan.run and segments.backfill.run; matches
behind the code are flagged before the claim (segments.outdated, by the sweep)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from core.segments import match
from segments import backfill, outdated, scan
from segments.models import ActivityMatch, Segment
from work import kinds, leases, run
from work.leases import Lease
from work.models import Attempt
from work.outcomes import Outcome

_SET_LEASE = """
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1"""

#: Lease up to %(limit)s due matches nobody holds, fresh before backfill, longest pending
#: first: the partial index segment_match_pending. Rows matched by a newer matcher than
#: this code's are left to newer workers (a partial deploy).
MATCH_DUE = f"""
UPDATE segments_activitymatch{_SET_LEASE}
 WHERE id IN (
       SELECT id FROM segments_activitymatch
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NULL
          AND version <= %(matcher_version)s
        ORDER BY priority, pending_since
        LIMIT %(limit)s
        {{lock}})
RETURNING id, generation, attempts
"""

#: Lease one orphan (its holder died), alone: the partial index segment_match_leased.
MATCH_ORPHAN = f"""
UPDATE segments_activitymatch{_SET_LEASE}
 WHERE id IN (
       SELECT id FROM segments_activitymatch
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NOT NULL
          AND version <= %(matcher_version)s
        ORDER BY due_at
        LIMIT %(limit)s
        {{lock}})
RETURNING id, generation, attempts
"""

MATCH_ONE = f"""
UPDATE segments_activitymatch{_SET_LEASE}
 WHERE id = %(row_id)s AND needs_work AND due_at <= %(now)s
   AND version <= %(matcher_version)s
RETURNING id, generation, attempts
"""

#: Lease up to %(limit)s due backfills nobody holds, longest pending first: the partial
#: index segment_pending.
SEGMENT_DUE = f"""
UPDATE segments_segment{_SET_LEASE}
 WHERE id IN (
       SELECT id FROM segments_segment
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NULL
        ORDER BY priority, pending_since
        LIMIT %(limit)s
        {{lock}})
RETURNING id, generation, attempts
"""

SEGMENT_ORPHAN = f"""
UPDATE segments_segment{_SET_LEASE}
 WHERE id IN (
       SELECT id FROM segments_segment
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NOT NULL
        ORDER BY due_at
        LIMIT %(limit)s
        {{lock}})
RETURNING id, generation, attempts
"""

SEGMENT_ONE = f"""
UPDATE segments_segment{_SET_LEASE}
 WHERE id = %(row_id)s AND needs_work AND due_at <= %(now)s
RETURNING id, generation, attempts
"""


def _error(code: str, message: str) -> dict:
    return {"error_code": code, "error_message": message}


def _match(lease: Lease) -> Outcome:
    return scan.run(MATCH, lease)


def _backfill(lease: Lease) -> Outcome:
    return backfill.run(SEGMENT, lease)


MATCH = kinds.register(kinds.Kind(
    name="segment_match",
    label="activities to match against segments",
    model=ActivityMatch,
    statements=kinds.Statements(due=MATCH_DUE, orphan=MATCH_ORPHAN, one=MATCH_ONE),
    doing="matching this activity against its segments",
    max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    dead_fields=lambda now: {"status": ActivityMatch.Status.DEAD},
    revived=lambda now: {"status": ActivityMatch.Status.QUEUED},
    run=_match,
    batch=lambda: settings.CAIRN_SEGMENTS_BATCH,
    params=lambda: {"matcher_version": match.VERSION},
    versions=lambda: {"segments": match.VERSION},
    runbook="segments.md",
))

SEGMENT = kinds.register(kinds.Kind(
    name="segment",
    label="segment backfills",
    model=Segment,
    statements=kinds.Statements(due=SEGMENT_DUE, orphan=SEGMENT_ORPHAN, one=SEGMENT_ONE),
    doing="matching this segment against past activities",
    max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    dead_fields=lambda now: {"status": Segment.Status.DEAD},
    revived=lambda now: {"status": Segment.Status.MATCHING},
    run=_backfill,
    batch=lambda: settings.CAIRN_SEGMENTS_BACKFILL_BATCH,
    versions=lambda: {"segments": match.VERSION},
    runbook="segments.md",
))


def flag(*, now: datetime) -> int:
    """Flag a bounded batch of matches behind this code (and create missing ones): the
    sweep's step before it claims them. Returns how many."""
    return outdated.flag(now=now, batch=settings.CAIRN_ROLLOUT_BATCH, version=match.VERSION)


def sweep(*, now: datetime, owner: str, limit: int | None = None) -> int:
    """Flag matches behind, then run a batch of matches and of backfills (tests, the
    benchmark); returns how many were flagged or leased."""
    done = flag(now=now)
    for kind in (MATCH, SEGMENT):
        taken = leases.claim(kind, limit=limit or kind.batch(), now=now, owner=owner,
                             trigger=Attempt.Trigger.SWEEP)
        run.run(kind, taken)
        done += len(taken)
    return done
