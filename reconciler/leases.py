"""Claims and leases: take rows that need work (activities, archives), and write only
while the lease holds."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Model

from activities.models import Activity, Derived
from reconciler import workers
from reconciler.models import Attempt

_DERIVED = Derived._meta.db_table


@dataclass(frozen=True, kw_only=True)
class Claim:
    """A lease on one activity: the token fences every write made under it."""

    activity_id: int
    token: str
    owner: str
    generation: int
    expires_at: datetime
    #: The Attempt logging this lease, and when it began, once one is started.
    attempt_id: int | None = None
    attempt_started: datetime | None = None


class LeaseLost(Exception):
    """The lease expired or was taken: the holder must stop and discard its results."""


# Take up to N rows that need work and are due (fresh before backfill, oldest pending
# first, so orphans and due retries go before newer work), skipping rows another claimer
# has locked, and lease them in the same statement. For activities the subquery is
# served by the partial index activity_pending (due_at is included in it), and
# `condition` skips activities with outputs newer than this code makes.
_CLAIM_SQL = """
UPDATE {table}
   SET lease_token = %s, lease_owner = %s, lease_expires_at = %s, due_at = %s {also}
 WHERE id IN (
       SELECT id FROM {table} AS a
        WHERE needs_work AND due_at <= %s AND {condition}
        ORDER BY priority, pending_since
        LIMIT %s
        {lock})
RETURNING id, generation
"""

# Lease one given row if it still needs work and is due (nudge, inline, command).
_CLAIM_ONE_SQL = """
UPDATE {table} AS a
   SET lease_token = %s, lease_owner = %s, lease_expires_at = %s, due_at = %s {also}
 WHERE id = %s AND needs_work AND due_at <= %s AND {condition}
RETURNING id, generation
"""


def claim(*, limit: int, now: datetime, owner: str) -> list[Claim]:
    """Lease up to `limit` activities that need work; an empty list means nothing is due.

    Orphans first (an expired lease: its holder died), from the small index
    activity_leased, so that a rescue takes one lease period plus one sweep however
    much new work is waiting; then the rest in the order of activity_pending.
    """
    condition, params = _not_newer()
    rows = lease(Activity, limit=limit, now=now, owner=owner,
                 condition=f"a.lease_token IS NOT NULL AND {condition}", params=params)
    if len(rows) < limit:
        rows += lease(Activity, limit=limit - len(rows), now=now, owner=owner,
                      condition=condition, params=params)
    return [Claim(activity_id=i, token=t, owner=owner, generation=g, expires_at=e)
            for i, g, t, e in rows]


def claim_one(activity_id: int, *, now: datetime, owner: str) -> Claim | None:
    """Lease this activity if it needs work and nobody holds it; None otherwise.

    The read comes first so that a duplicate nudge for an up-to-date activity writes
    nothing at all.
    """
    condition, params = _not_newer()
    found = lease_one(Activity, activity_id, now=now, owner=owner, condition=condition,
                      params=params)
    if found is None:
        return None
    generation, token, expires = found
    return Claim(activity_id=activity_id, token=token, owner=owner, generation=generation,
                 expires_at=expires)


def hold(claim: Claim, *, now: datetime) -> datetime:
    """Check and renew the activity's lease inside the caller's transaction; raise
    LeaseLost if it is gone. The attempt's `held_until` moves in the same transaction."""
    if claim.activity_id not in hold_many([claim], now=now):
        raise LeaseLost(f"lease {claim.token} on activity {claim.activity_id} is gone")
    return now + timedelta(seconds=settings.CAIRN_LEASE_S)


def hold_many(claims: list[Claim], *, now: datetime) -> set[int]:
    """The fence for a batch: renew every lease still held, inside the caller's
    transaction, and return the activity ids whose lease holds (their rows stay locked
    until the caller commits, on PostgreSQL). Their attempts' `held_until` moves too."""
    expires = now + timedelta(seconds=settings.CAIRN_LEASE_S)
    held: set[int] = set()
    by_token: dict[str, list[int]] = {}
    for claim in claims:
        by_token.setdefault(claim.token, []).append(claim.activity_id)
    for token, ids in by_token.items():
        with connection.cursor() as cursor:
            cursor.execute(_HOLD_SQL.format(ids=", ".join(["%s"] * len(ids))),
                           [expires, expires, *ids, token, now])
            held.update(row[0] for row in cursor.fetchall())
    attempts = [c.attempt_id for c in claims if c.activity_id in held and c.attempt_id]
    if attempts:
        Attempt.objects.filter(id__in=attempts).update(held_until=expires)
    return held


# Renew the leases a token still holds among these activities (the fence, for a batch).
_HOLD_SQL = f"""
UPDATE {Activity._meta.db_table}
   SET lease_expires_at = %s, due_at = %s
 WHERE id IN ({{ids}}) AND lease_token = %s AND lease_expires_at > %s
RETURNING id
"""


def lease(model: type[Model], *, limit: int, now: datetime, owner: str,
          condition: str = "TRUE", params: list | None = None
          ) -> list[tuple[int, int, str, datetime]]:
    """Lease up to `limit` due rows of a leased table: (id, generation, token, expiry)."""
    token, expires = _new_lease(now)
    # SQLite has no row locks; its IMMEDIATE transactions serialise writers instead.
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = _CLAIM_SQL.format(table=model._meta.db_table, also=_status_set(model),
                            condition=condition, lock=lock)
    with connection.cursor() as cursor:
        cursor.execute(sql, [token, owner, expires, expires, now, *(params or []), limit])
        rows = cursor.fetchall()
    return [(i, g, token, expires) for i, g in sorted(rows)]


def lease_one(model: type[Model], row_id: int, *, now: datetime, owner: str,
              condition: str = "TRUE", params: list | None = None
              ) -> tuple[int, str, datetime] | None:
    """Lease one row if it needs work and is due: (generation, token, expiry), or None."""
    if not model.objects.filter(id=row_id, needs_work=True, due_at__lte=now).exists():
        return None
    token, expires = _new_lease(now)
    sql = _CLAIM_ONE_SQL.format(table=model._meta.db_table, also=_status_set(model),
                                condition=condition)
    with connection.cursor() as cursor:
        cursor.execute(sql, [token, owner, expires, expires, row_id, now, *(params or [])])
        row = cursor.fetchone()
    return None if row is None else (row[1], token, expires)


def hold_row(model: type[Model], row_id: int, token: str, *, now: datetime) -> datetime:
    """The fence: renew the lease if this token still holds it and it has not expired.

    On PostgreSQL the UPDATE keeps the row locked until the caller commits, so no
    claimer can take the lease between this check and the caller's writes.
    """
    expires = now + timedelta(seconds=settings.CAIRN_LEASE_S)
    renewed = model.objects.filter(id=row_id, lease_token=token, lease_expires_at__gt=now
                                   ).update(lease_expires_at=expires, due_at=expires)
    if renewed != 1:
        raise LeaseLost(f"lease {token} on {model._meta.model_name} {row_id} is gone")
    return expires


def _status_set(model: type[Model]) -> str:
    # An activity shows that it is being processed; other leased rows have no status.
    return ", status = 'processing'" if model is Activity else ""


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
