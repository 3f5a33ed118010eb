"""Bulk exports as a kind of reconciled work (work.kinds): its claim statements and its
spec. The work itself is exports.build.run."""

from __future__ import annotations

import dataclasses
import functools

from django.conf import settings

from exports import build
from exports.models import Export
from work import kinds, leases, run

#: A sweep round spends at most this long building one export, so that the round's other
#: work goes on; the next round resumes it from its checkpoint.
SWEEP_BUDGET_S = 5.0

#: Lease up to %(limit)s due exports nobody holds: those that need work, and the ready
#: ones whose expiry has come (the index export_ready), which this marks as needing it:
#: their zip is deleted.
CLAIM_DUE = """
UPDATE exports_export
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1, needs_work = TRUE,
       pending_since = COALESCE(pending_since, %(now)s)
 WHERE id IN (
       SELECT id FROM exports_export
        WHERE lease_token IS NULL
          AND ((needs_work AND due_at <= %(now)s)
               OR (status = 'ready' AND expires_at <= %(now)s))
        ORDER BY priority, due_at
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease one orphan (its holder died mid-export), alone: export_pending.
CLAIM_ORPHAN = """
UPDATE exports_export
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM exports_export
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NOT NULL
        ORDER BY due_at
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease the export %(row_id)s if it is due (a command, a test).
CLAIM_ONE = """
UPDATE exports_export
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id = %(row_id)s AND needs_work AND due_at <= %(now)s
RETURNING id, generation, attempts
"""


def _error(code: str, message: str) -> dict:
    return {"error_code": code, "error_message": message}


def _dead(now) -> dict:
    # Given up on: failed for its owner, who may ask for a new one.
    return {"status": Export.Status.FAILED, "finished_at": now}


KIND = kinds.register(kinds.Kind(
    name="export",
    label="bulk exports",
    model=Export,
    statements=kinds.Statements(due=CLAIM_DUE, orphan=CLAIM_ORPHAN, one=CLAIM_ONE),
    doing="building this export",
    max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    dead_fields=_dead,
    run=functools.partial(build.run, budget_s=SWEEP_BUDGET_S),
    # One export a round: its activities are the round's work.
    batch=lambda: 1,
    runbook="poison-files-and-dead-letters.md",
    revived=lambda now: {"status": Export.Status.PENDING, "finished_at": None},
))


def run_one(lease: leases.Lease, *, budget_s: float | None = None) -> str:
    """Run one leased export for at most `budget_s` (None: to the end) and release it;
    the attempt's outcome."""
    within = dataclasses.replace(KIND, run=functools.partial(build.run, budget_s=budget_s))
    return run.run_one(within, lease)
