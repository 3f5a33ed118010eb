"""Leases on the leased tables not yet moved onto the kernel (work.leases): take rows
that need work, count the attempt, and write only while the lease holds. Activities are
the kernel's kind "activity" (reconciler.kind).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Model

from reconciler import expired


@dataclass(frozen=True, kw_only=True)
class Lease:
    """One row of a leased table, leased: its token fences every write made under it."""

    row_id: int
    generation: int
    token: str
    expires_at: datetime
    #: Its previous lease had expired: the holder stopped before settling it (lease_one
    #: says; claim knows from the step that took it).
    orphan: bool = False


class LeaseLost(Exception):
    """The lease expired or was taken: the holder must stop and discard its results."""


# Named statements: {table} is a leased table, {condition} narrows the rows (alias `a`),
# {lock} is FOR UPDATE SKIP LOCKED on PostgreSQL. Every lease taken counts an attempt in
# the same statement, so a process that dies holding it has used one all the same.

#: Lease up to `limit` due rows, fresh before backfill, oldest pending first, skipping
#: rows another claimer has locked.
LEASE_DUE = """
UPDATE {table}
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM {table} AS a
        WHERE needs_work AND due_at <= %(now)s AND {condition}
        ORDER BY priority, pending_since
        LIMIT %(limit)s
        {lock})
RETURNING id, generation
"""

#: Lease one given row if it still needs work and is due (nudge, inline, command).
LEASE_ONE = """
UPDATE {table} AS a
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id = %(row_id)s AND needs_work AND due_at <= %(now)s AND {condition}
RETURNING id, generation
"""

#: The fence: renew the lease on those of the rows {ids} that the token still holds and
#: whose lease has not expired; on PostgreSQL they stay locked until the caller commits.
#: {ids} is one array parameter on PostgreSQL (one statement text for any batch, which
#: psycopg converts once and PostgreSQL keeps prepared), a list of them on SQLite.
RENEW = """
UPDATE {table}
   SET lease_expires_at = %(expires)s, due_at = %(expires)s
 WHERE {ids} AND lease_token = %(token)s AND lease_expires_at > %(now)s
RETURNING id
"""

def hold_row(model: type[Model], row_id: int, token: str, *, now: datetime) -> datetime:
    """The fence for one row of any leased table: renewed, or LeaseLost."""
    if row_id not in fence(model, [row_id], token, now=now):
        raise LeaseLost(f"lease {token} on {model._meta.model_name} {row_id} is gone")
    return _expiry(now)


def fence(model: type[Model], row_ids: list[int], token: str, *, now: datetime) -> set[int]:
    """The one fence of every leased table: renew the lease of the rows this token still
    holds, inside the caller's transaction, and return their ids. A writer writes only
    the rows returned, in the same transaction (no claimer can take them meanwhile)."""
    if not row_ids:
        return set()
    if connection.vendor == "postgresql":
        ids, match = {"ids": list(row_ids)}, "id = ANY(%(ids)s::bigint[])"
    else:
        ids = {f"id_{n}": row_id for n, row_id in enumerate(row_ids)}
        match = f"id IN ({', '.join(f'%({k})s' for k in ids)})"
    sql = RENEW.format(table=model._meta.db_table, ids=match)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**ids, "token": token, "expires": _expiry(now), "now": now})
        return {row[0] for row in cursor.fetchall()}


def lease(model: type[Model], *, limit: int, now: datetime, owner: str,
          condition: str = "TRUE", params: dict | None = None) -> list[Lease]:
    """Lease up to `limit` due rows of a leased table (one token for them all)."""
    token, expires = uuid.uuid4().hex, _expiry(now)
    # SQLite has no row locks; its IMMEDIATE transactions serialise writers instead.
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    sql = LEASE_DUE.format(table=model._meta.db_table, condition=condition, lock=lock)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**(params or {}), "token": token, "owner": owner,
                             "expires": expires, "now": now, "limit": limit})
        rows = cursor.fetchall()
    return [Lease(row_id=i, generation=g, token=token, expires_at=expires)
            for i, g in sorted(rows)]


def lease_one(model: type[Model], row_id: int, *, now: datetime, owner: str,
              condition: str = "TRUE", params: dict | None = None) -> Lease | None:
    """Lease one row if it needs work and is due, or None. The read comes first, so that
    a duplicate nudge for an up-to-date row writes nothing at all; an orphan that has
    used CAIRN_MAX_ATTEMPTS is buried instead."""
    found = model.objects.filter(id=row_id, needs_work=True, due_at__lte=now).values_list(
        "lease_token", "attempts").first()
    if found is None:
        return None
    orphan = found[0] is not None
    if orphan and found[1] >= settings.CAIRN_MAX_ATTEMPTS:
        expired.bury(model, now=now, ids=[row_id])
        return None
    token, expires = uuid.uuid4().hex, _expiry(now)
    sql = LEASE_ONE.format(table=model._meta.db_table, condition=condition)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**(params or {}), "token": token, "owner": owner,
                             "expires": expires, "now": now, "row_id": row_id})
        row = cursor.fetchone()
    if row is None:
        return None
    return Lease(row_id=row_id, generation=row[1], token=token, expires_at=expires,
                 orphan=orphan)


def _expiry(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.CAIRN_LEASE_S)
