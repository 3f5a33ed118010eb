"""Activities as a kind of reconciled work (work.kinds): deriving their outputs. Its
claim statements, complete here, and its spec; the work is reconciler.reconcile, a batch
at a time, released in one statement (reconciler.settle)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from activities.models import Activity
from reconciler import workers
from work import kinds, leases
from work.models import Attempt

# Every statement leaves out deleted activities (they are the deletions' kind, on this
# table: reconciler.deletion) and those with an output newer than this code produces:
# a worker on old code (a partial deploy) leaves them to newer workers. %(versions)s is
# this code's versions as JSON ({deriver: version}); a deriver it does not know is never
# newer.

#: Lease up to %(limit)s due activities nobody holds, fresh before backfill, oldest
#: pending first: the partial index activity_pending.
CLAIM_DUE = """
UPDATE activities_activity
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM activities_activity AS a
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NULL
          AND deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM activities_derived AS d
                           WHERE d.activity_id = a.id
                             AND d.version > CAST(%(versions)s ->> d.deriver AS INTEGER))
        ORDER BY priority, pending_since
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease one orphan (its lease expired: the holder died), alone: the small partial index
#: activity_leased.
CLAIM_ORPHAN = """
UPDATE activities_activity
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM activities_activity AS a
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NOT NULL
          AND deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM activities_derived AS d
                           WHERE d.activity_id = a.id
                             AND d.version > CAST(%(versions)s ->> d.deriver AS INTEGER))
        ORDER BY priority, pending_since
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease the activity %(row_id)s if it is due (a nudge, the inline fallback, a command).
CLAIM_ONE = """
UPDATE activities_activity AS a
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id = %(row_id)s AND needs_work AND due_at <= %(now)s AND deleted_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM activities_derived AS d
                    WHERE d.activity_id = a.id
                      AND d.version > CAST(%(versions)s ->> d.deriver AS INTEGER))
RETURNING id, generation, attempts
"""


def _error(code: str, message: str) -> dict:
    return {"error_code": code, "error_message": message}


def _dead(now: datetime) -> dict:
    return {"status": Activity.Status.DEAD}


def _due() -> dict:
    return {"status": Activity.Status.QUEUED}


def _reconcile(leased: list[leases.Lease]) -> dict[int, str]:
    from reconciler.reconcile import reconcile_batch  # it settles through this kind

    return reconcile_batch(leased, trigger=Attempt.Trigger.SWEEP)


KIND = kinds.register(kinds.Kind(
    name="activity",
    label="activities",
    model=Activity,
    statements=kinds.Statements(due=CLAIM_DUE, orphan=CLAIM_ORPHAN, one=CLAIM_ONE),
    doing="processing this file",
    max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    dead_fields=_dead,
    due_fields=_due,
    scope={"deleted_at__isnull": True},
    run_batch=_reconcile,
    batch=lambda: settings.CAIRN_CLAIM_BATCH,
    params=workers.versions_param,
    versions=workers.code_versions,
    replayed="it is re-synced",
    runbook="uploads-stuck-queued.md",
))


def claim(*, limit: int | None = None, now: datetime, owner: str,
          trigger: str = Attempt.Trigger.SWEEP) -> list[leases.Lease]:
    """Lease up to `limit` due activities (the kernel's claim: an orphan alone first)."""
    return leases.claim(KIND, limit=limit or KIND.batch(), now=now, owner=owner,
                        trigger=trigger)


def claim_one(activity_id: int, *, now: datetime, owner: str,
              trigger: str = Attempt.Trigger.SWEEP) -> leases.Lease | None:
    """Lease this activity if it is due and nobody holds it; None otherwise."""
    return leases.claim_one(KIND, activity_id, now=now, owner=owner, trigger=trigger)
