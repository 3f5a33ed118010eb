"""Upload sessions as a kind of reconciled work (work.kinds): its claim statements and its
spec. The work itself is transfers.settle.look."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Q

from transfers import settle
from transfers.models import UploadSession
from work import kinds, leases, run
from work.models import Attempt

#: Lease up to %(limit)s due sessions nobody holds, fresh before backfill, longest
#: waiting first: the partial index session_pending.
CLAIM_DUE = """
UPDATE transfers_uploadsession
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM transfers_uploadsession
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NULL
        ORDER BY priority, pending_since
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease one orphan (its lease expired: the holder died), alone.
CLAIM_ORPHAN = """
UPDATE transfers_uploadsession
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM transfers_uploadsession
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NOT NULL
        ORDER BY due_at
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease the session %(row_id)s if it is due (a client's "complete", a PATCH's last byte).
CLAIM_ONE = """
UPDATE transfers_uploadsession
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id = %(row_id)s AND needs_work AND due_at <= %(now)s
RETURNING id, generation, attempts
"""


def _error(code: str, message: str) -> dict:
    return {"error_code": code, "error_message": message}


def _dead(now: datetime) -> dict:
    # A session given up on is failed for its client: the upload shows why.
    return {"status": UploadSession.Status.FAILED, "settled_at": now}


def _revived(now: datetime) -> dict:
    # Replayed: its client sees it uploading again until the next look settles it.
    return {"status": UploadSession.Status.UPLOADING, "settled_at": None}


#: Given up on: failed with its attempts kept (a settled session's count is cleared):
#: the partial index session_failed serves both.
_DEAD = Q(status=UploadSession.Status.FAILED, attempts__gt=0)
_FAILED = Q(status=UploadSession.Status.FAILED, attempts=0)


KIND = kinds.register(kinds.Kind(
    name="session",
    label="upload sessions",
    model=UploadSession,
    statements=kinds.Statements(due=CLAIM_DUE, orphan=CLAIM_ORPHAN, one=CLAIM_ONE),
    doing="taking this file in",
    max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    dead_fields=_dead,
    run=settle.look,
    batch=lambda: 10,
    runbook="uploads-stuck-uploading.md",
    dead=lambda: _DEAD,
    failed=lambda: _FAILED,
    revived=_revived,
))


def sweep(*, now: datetime, owner: str, limit: int | None = None) -> int:
    """Lease due sessions and settle each; returns how many were leased."""
    taken = leases.claim(KIND, limit=limit or KIND.batch(), now=now, owner=owner,
                         trigger=Attempt.Trigger.SWEEP)
    run.run(KIND, taken)
    return len(taken)


def settle(lease: leases.Lease) -> str:
    """Run and release one leased session (tests, and a sweep's step); the attempt's
    outcome."""
    return run.run_one(KIND, lease)
