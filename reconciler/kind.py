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
# a worker on old code (a partial deploy) leaves them to newer workers. {newer} is that
# rule spelled out, one term per deriver of this code, "(d.deriver = 'track' AND
# d.version > %(version_track)s) OR …" (Statements below): PostgreSQL answers it with one
# probe of derived_by_version for the whole claim (normally it finds nothing), where a
# comparison it cannot index would probe every candidate's outputs.

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
                           WHERE d.activity_id = a.id AND ({newer}))
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
                           WHERE d.activity_id = a.id AND ({newer}))
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
                    WHERE d.activity_id = a.id AND ({newer}))
RETURNING id, generation, attempts
"""


def _newer() -> str:
    return " OR ".join(f"(d.deriver = '{name}' AND d.version > %(version_{name})s)"
                       for name in workers.code_versions())


def _params() -> dict:
    return {f"version_{name}": version for name, version in workers.code_versions().items()}


class Statements:
    """The kind's claim statements (as work.kinds.Statements), the not-newer rule written
    out for the derivers of the code running now (a deploy, or a test, may change them);
    the text is the same for as long as they do not change."""

    @staticmethod
    def _spelled(template: str) -> str:
        return template.replace("{newer}", _newer())

    @property
    def due(self) -> str:
        return self._spelled(CLAIM_DUE)

    @property
    def orphan(self) -> str:
        return self._spelled(CLAIM_ORPHAN)

    @property
    def one(self) -> str:
        return self._spelled(CLAIM_ONE)


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
    statements=Statements(),
    doing="processing this file",
    max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    dead_fields=_dead,
    due_fields=_due,
    scope={"deleted_at__isnull": True},
    run_batch=_reconcile,
    batch=lambda: settings.CAIRN_CLAIM_BATCH,
    params=_params,
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
