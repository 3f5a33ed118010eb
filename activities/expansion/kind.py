"""Archive expansion as a kind of reconciled work (work.kinds): its claim statements and
its spec. The work itself is activities.expansion.expand.expand."""

from __future__ import annotations

import dataclasses
import functools

from django.conf import settings

from activities.expansion import expand as expander
from activities.models import Archive
from work import kinds, leases, run

#: A sweep round spends at most this long expanding an archive, so that the activities
#: it imports (and everyone else's) are processed meanwhile; the next round resumes it.
SWEEP_BUDGET_S = 10.0

#: Lease up to %(limit)s due archives nobody holds, fresh before backfill, longest
#: pending first: the partial index archive_pending.
CLAIM_DUE = """
UPDATE activities_archive
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM activities_archive
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NULL
        ORDER BY priority, pending_since
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease one orphan (its holder died mid-archive), alone: archive_pending.
CLAIM_ORPHAN = """
UPDATE activities_archive
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM activities_archive
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NOT NULL
        ORDER BY due_at
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease the archive %(row_id)s if it is due (its upload's task, the import command).
CLAIM_ONE = """
UPDATE activities_archive
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id = %(row_id)s AND needs_work AND due_at <= %(now)s
RETURNING id, generation, attempts
"""


def _error(code: str, message: str) -> dict:
    return {"error_code": code, "error_message": message}


KIND = kinds.register(kinds.Kind(
    name="archive",
    label="archives",
    model=Archive,
    statements=kinds.Statements(due=CLAIM_DUE, orphan=CLAIM_ORPHAN, one=CLAIM_ONE),
    doing="expanding this archive",
    max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    run=functools.partial(expander.expand, budget_s=SWEEP_BUDGET_S),
    # One archive a round: its members are the round's work.
    batch=lambda: 1,
    runbook="poison-files-and-dead-letters.md",
))


def expand(lease: leases.Lease, *, budget_s: float | None = None) -> str:
    """Expand one leased archive for at most `budget_s` (None: to the end) and release it;
    the attempt's outcome (converged, yielded, waiting, failed, lease_lost)."""
    within = dataclasses.replace(KIND, run=functools.partial(expander.expand,
                                                             budget_s=budget_s))
    return run.run_one(within, lease)
