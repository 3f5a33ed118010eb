"""Claims and leases: take activities that need work, and write only while the lease holds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from activities.models import Activity, Derived
from reconciler import workers
from reconciler.models import Attempt

_TABLE = Activity._meta.db_table
_DERIVED = Derived._meta.db_table


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A lease on one activity: the token fences every write made under it."""

    activity_id: int
    token: str
    owner: str
    generation: int
    expires_at: datetime
    #: The Attempt logging this lease, once reconcile_one has started one.
    attempt_id: int | None = None


class LeaseLost(Exception):
    """The lease expired or was taken: the holder must stop and discard its results."""


# Take up to N activities that need work and are due (fresh before backfill, oldest
# pending first, so orphans and due retries go before newer uploads), skipping rows
# another claimer has locked and activities with outputs newer than this code makes;
# lease them in the same statement. The subquery is served by the partial index
# activity_pending (due_at is included in it), the NOT EXISTS by derived_one_per_kind.
_CLAIM_SQL = f"""
UPDATE {_TABLE}
   SET lease_token = %s, lease_owner = %s, lease_expires_at = %s, due_at = %s,
       status = 'processing'
 WHERE id IN (
       SELECT id FROM {_TABLE} AS a
        WHERE needs_work AND due_at <= %s AND {{not_newer}}
        ORDER BY priority, pending_since
        LIMIT %s
        {{lock}})
RETURNING id, generation
"""

# Lease one given activity if it still needs work and is due (nudge, inline, command).
_CLAIM_ONE_SQL = f"""
UPDATE {_TABLE} AS a
   SET lease_token = %s, lease_owner = %s, lease_expires_at = %s, due_at = %s,
       status = 'processing'
 WHERE id = %s AND needs_work AND due_at <= %s AND {{not_newer}}
RETURNING id, generation
"""


def claim(*, limit: int, now: datetime, owner: str) -> list[Claim]:
    """Lease up to `limit` activities that need work; an empty list means nothing is due."""
    token, expires = _new_lease(now)
    # SQLite has no row locks; its IMMEDIATE transactions serialise writers instead.
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    not_newer, versions = _not_newer()
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_SQL.format(lock=lock, not_newer=not_newer),
                       [token, owner, expires, expires, now, *versions, limit])
        rows = cursor.fetchall()
    return [Claim(activity_id=i, token=token, owner=owner, generation=g, expires_at=expires)
            for i, g in sorted(rows)]


def claim_one(activity_id: int, *, now: datetime, owner: str) -> Claim | None:
    """Lease this activity if it needs work and nobody holds it; None otherwise.

    The read comes first so that a duplicate nudge for an up-to-date activity writes
    nothing at all.
    """
    if not Activity.objects.filter(id=activity_id, needs_work=True, due_at__lte=now).exists():
        return None
    token, expires = _new_lease(now)
    not_newer, versions = _not_newer()
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_ONE_SQL.format(not_newer=not_newer),
                       [token, owner, expires, expires, activity_id, now, *versions])
        row = cursor.fetchone()
    if row is None:
        return None  # another worker was faster
    return Claim(activity_id=row[0], token=token, owner=owner, generation=row[1],
                 expires_at=expires)


def hold(claim: Claim, *, now: datetime) -> datetime:
    """Check and renew the lease inside the caller's transaction; raise LeaseLost if gone.

    On PostgreSQL the UPDATE keeps the activity's row locked until the caller commits, so
    no claimer can take the lease between this check and the caller's writes: this is
    the fence. The attempt's `held_until` moves in the same transaction.
    """
    expires = now + timedelta(seconds=settings.CAIRN_LEASE_S)
    renewed = Activity.objects.filter(
        id=claim.activity_id, lease_token=claim.token, lease_expires_at__gt=now,
    ).update(lease_expires_at=expires, due_at=expires)
    if renewed != 1:
        raise LeaseLost(f"lease {claim.token} on activity {claim.activity_id} is gone")
    if claim.attempt_id is not None:
        Attempt.objects.filter(id=claim.attempt_id).update(held_until=expires)
    return expires


def _not_newer() -> tuple[str, list]:
    """SQL (over alias `a`) true when no output of the activity is newer than this code
    produces: a worker on old code (a partial deploy) leaves those to newer workers."""
    versions = workers.code_versions()
    terms = " OR ".join(["(d.deriver = %s AND d.version > %s)"] * len(versions))
    params = [value for item in versions.items() for value in item]
    return (f"NOT EXISTS (SELECT 1 FROM {_DERIVED} AS d WHERE d.activity_id = a.id "
            f"AND ({terms}))"), params


def _new_lease(now: datetime) -> tuple[str, datetime]:
    return uuid.uuid4().hex, now + timedelta(seconds=settings.CAIRN_LEASE_S)
