"""Activities as a kind of reconciled work (work.kinds): deriving their outputs. Its
claim statements, complete here, and its spec; the work is reconciler.derivation.reconcile, a batch
at a time, released in one statement (reconciler.derivation.settle)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db.models import Q

from activities.models import Activity
from reconciler.operations import workers
from work import kinds, leases
from work.models import Attempt

# Every statement leaves out deleted activities (they are the deletions' kind, on this
# table: reconciler.deletions.removal) and those with an output newer than this code produces:
# a worker on old code (a partial deploy) leaves them to newer workers. {newer} is that
# rule spelled out, one term per deriver of this code, "(d.deriver = 'track' AND
# d.version > %(version_track)s) OR …" (Statements below): PostgreSQL answers it with one
# probe of derived_by_version for the whole claim (normally it finds nothing), where a
# comparison it cannot index would probe every candidate's outputs.

#: Lease up to `limit` due activities of the first priority that has any (fresh before
#: backfill), shared among their owners: the owners with due work are taken in turn from
#: the one after %(after)s (the last this process served), wrapping round, up to `limit`
#: owners, and each gives its longest-waiting rows, ceil(limit / owners) of them. So one
#: user's archive of 20,000 files, or a backfill of millions, never makes another user's
#: fresh upload wait: it is in the next batch. `walk` is a loose index scan of the partial
#: index activity_fair (priority, owner_id, pending_since), one probe per owner: it
#: starts at the first priority with due work (none: the idle claim's only probe), and
#: each step takes the next owner after the last (one probe), or, once, the first from
#: the start.
#: `taken` reads each owner's rows from the same index, but those with an output newer
#: than this code's ({newer}, read once: a partial deploy leaves them to newer workers).
#: Returns each row's owner too, for the next claim's %(after)s (work.leases.next_after).
#: PostgreSQL (LATERAL): SQLite runs CLAIM_DUE_SQLITE.
CLAIM_DUE = """
UPDATE activities_activity
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       WITH RECURSIVE walk (priority, owner_id, wrapped, n) AS (
            (SELECT a.priority, %(after)s::integer, false, 0
               FROM activities_activity AS a
              WHERE needs_work AND a.lease_token IS NULL AND a.deleted_at IS NULL
                AND a.due_at <= %(now)s
              ORDER BY a.priority LIMIT 1)
         UNION ALL
            SELECT w.priority, nx.owner_id, w.wrapped OR ahead.owner_id IS NULL, w.n + 1
              FROM walk AS w
             CROSS JOIN LATERAL (
                   SELECT (SELECT a.owner_id FROM activities_activity AS a
                            WHERE needs_work AND a.lease_token IS NULL
                              AND a.deleted_at IS NULL AND a.due_at <= %(now)s
                              AND a.priority = w.priority AND a.owner_id > w.owner_id
                              AND (NOT w.wrapped OR a.owner_id <= %(after)s)
                            ORDER BY a.owner_id LIMIT 1) AS owner_id
                   OFFSET 0) AS ahead
             CROSS JOIN LATERAL (
                   -- COALESCE evaluates its second only when the first is null: the
                   -- probe from the start runs once, when the owners ahead run out.
                   -- OFFSET 0 keeps each LATERAL whole, so that it runs once a step.
                   SELECT COALESCE(ahead.owner_id, CASE WHEN NOT w.wrapped THEN
                          (SELECT a.owner_id FROM activities_activity AS a
                            WHERE needs_work AND a.lease_token IS NULL
                              AND a.deleted_at IS NULL AND a.due_at <= %(now)s
                              AND a.priority = w.priority AND a.owner_id <= %(after)s
                            ORDER BY a.owner_id LIMIT 1) END) AS owner_id
                   OFFSET 0) AS nx
             WHERE w.n < %(limit)s AND nx.owner_id IS NOT NULL),
       owners AS (SELECT priority, owner_id FROM walk WHERE n > 0),
       newer AS MATERIALIZED ({newer}),
       share AS (SELECT ceil(%(limit)s::numeric / greatest(count(*), 1))::int AS rows
                   FROM owners)
       SELECT taken.id
         FROM owners AS w
        CROSS JOIN share
        CROSS JOIN LATERAL (
              SELECT a.id FROM activities_activity AS a
               WHERE needs_work AND a.lease_token IS NULL AND a.deleted_at IS NULL
                 AND a.due_at <= %(now)s AND a.priority = w.priority
                 AND a.owner_id = w.owner_id
                 AND a.id NOT IN (SELECT activity_id FROM newer)
               ORDER BY a.pending_since
               LIMIT share.rows
               FOR UPDATE SKIP LOCKED) AS taken)
RETURNING id, generation, attempts, owner_id
"""

#: CLAIM_DUE on SQLite (no LATERAL; one writer at a time; small tables): the due rows of
#: the first priority that has any, numbered within their owner, taken round-robin: each
#: owner's first from the one after %(after)s, then each one's second, and so on.
CLAIM_DUE_SQLITE = """
UPDATE activities_activity
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM (
              SELECT a.id, a.priority, a.owner_id,
                     row_number() OVER (PARTITION BY a.priority, a.owner_id
                                        ORDER BY a.pending_since) AS turn
                FROM activities_activity AS a
               WHERE needs_work AND a.lease_token IS NULL AND a.deleted_at IS NULL
                 AND a.due_at <= %(now)s AND {condition}
                 AND a.priority = (SELECT min(priority) FROM activities_activity
                                    WHERE needs_work AND lease_token IS NULL
                                      AND deleted_at IS NULL AND due_at <= %(now)s))
        ORDER BY turn, owner_id <= %(after)s, owner_id
        LIMIT %(limit)s)
RETURNING id, generation, attempts, owner_id
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

#: Whether any activity is due that nobody holds: CLAIM_DUE's first step alone, run before
#: it, since planning the whole statement costs more than an idle claim may (over the
#: index activity_fair). A row back may still be one CLAIM_DUE leaves (newer outputs).
ANY_DUE = """
SELECT 1 FROM activities_activity
 WHERE needs_work AND lease_token IS NULL AND deleted_at IS NULL AND due_at <= %(now)s
 LIMIT 1
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
        newer = f"SELECT d.activity_id FROM activities_derived AS d WHERE {_newer()}"
        return CLAIM_DUE.replace("{newer}", newer)

    @property
    def due_sqlite(self) -> str:
        return CLAIM_DUE_SQLITE.replace("{condition}", self._spelled(
            "NOT EXISTS (SELECT 1 FROM activities_derived AS d WHERE d.activity_id = a.id "
            "AND ({newer}))"))

    @property
    def orphan(self) -> str:
        return self._spelled(CLAIM_ORPHAN)

    @property
    def one(self) -> str:
        return self._spelled(CLAIM_ONE)

    gate = ANY_DUE


def _error(code: str, message: str) -> dict:
    return {"error_code": code, "error_message": message}


def _dead(now: datetime) -> dict:
    return {"status": Activity.Status.DEAD}


def _due() -> dict:
    return {"status": Activity.Status.QUEUED}


def _reconcile(leased: list[leases.Lease]) -> dict[int, str]:
    from reconciler.derivation.reconcile import reconcile_batch  # it settles through this kind

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
    rows=lambda: Q(deleted_at__isnull=True),
    dead=lambda: Q(status=Activity.Status.DEAD, deleted_at__isnull=True),
    failed=lambda: Q(status=Activity.Status.FAILED, deleted_at__isnull=True),
    revived=lambda now: {"status": Activity.Status.QUEUED},
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
