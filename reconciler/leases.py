"""Claims and leases on the leased tables (activities, archives): take rows that need work,
count the attempt, and write only while the lease holds.

A row is being processed exactly while it carries a lease token: nothing else is written
to say so (the API's `processing` is read from the lease, Activity.state).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Model

from activities.models import Activity, Derived
from reconciler import expired, workers
from reconciler.models import Attempt
from work.leases import SHARED_ROUNDS, next_after


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


# Named statements: {table} is a leased table, {condition} narrows the rows (alias `a`),
# {lock} is FOR UPDATE SKIP LOCKED on PostgreSQL. Every lease taken counts an attempt in
# the same statement, so a process that dies holding it has used one all the same.

#: Lease up to `limit` due rows, fresh before backfill, oldest pending first, skipping
#: rows another claimer has locked. For activities the subquery is served by the partial
#: index activity_pending (activity_leased for orphans).
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
#: Returns each row's owner too, for the next claim's %(after)s (next_after). PostgreSQL
#: (LATERAL): SQLite runs FAIR_DUE_SQLITE. fair_due() fills both in.
FAIR_DUE = """
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

#: FAIR_DUE on SQLite (no LATERAL; one writer at a time; small tables): the due rows of
#: the first priority that has any, numbered within their owner, taken round-robin: each
#: owner's first from the one after %(after)s, then each one's second, and so on.
FAIR_DUE_SQLITE = """
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


class Cursor:
    """The owner after which this process's next fair claim starts (each sweeper keeps
    its own: they rotate alike, and one that restarts begins from the first owner)."""

    def __init__(self) -> None:
        self.after = 0

    def reset(self) -> None:
        self.after = 0


CURSOR = Cursor()


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

#: Rows leased now, or orphans (an expired lease): the small index activity_leased.
_ORPHAN = "a.lease_token IS NOT NULL"
_UNLEASED = "a.lease_token IS NULL"
#: Deleted activities are the deletion sweep's (reconciler.deletion), never derived.
_LIVE = "a.deleted_at IS NULL"


def claim(*, limit: int, now: datetime, owner: str) -> list[Claim]:
    """Lease up to `limit` activities that need work; an empty list means nothing is due.

    1. Orphans that have used CAIRN_MAX_ATTEMPTS are dead (expired.bury), never leased.
    2. One orphan (an expired lease: its holder died), alone, so that a file that kills
       its worker costs nobody else a lease; it goes first, so that a rescue takes one
       lease period plus one sweep however much new work is waiting.
    3. Else up to `limit` unleased activities, fresh before backfill, shared among
       their owners (FAIR_DUE).
    """
    expired.bury(Activity, now=now)
    condition, params = _not_newer()
    found = lease(Activity, limit=1, now=now, owner=owner,
                  condition=f"{_ORPHAN} AND {_LIVE} AND {condition}", params=params)
    if found:
        expired.taken_over(found[0].row_id)
    else:
        found = lease_fair(limit=limit, now=now, owner=owner)
    return [_claim(taken, owner) for taken in found]


def claim_one(activity_id: int, *, now: datetime, owner: str) -> Claim | None:
    """Lease this activity if it needs work and nobody holds it; None otherwise (an orphan
    that has used CAIRN_MAX_ATTEMPTS is made dead instead)."""
    condition, params = _not_newer()
    taken = lease_one(Activity, activity_id, now=now, owner=owner,
                      condition=f"{_LIVE} AND {condition}", params=params)
    if taken is None:
        return None
    if taken.orphan:
        expired.taken_over(activity_id)
    return _claim(taken, owner)


def hold(claim: Claim, *, now: datetime) -> datetime:
    """Check and renew the activity's lease inside the caller's transaction; raise
    LeaseLost if it is gone. The attempt's `held_until` moves in the same transaction."""
    if claim.activity_id not in hold_many([claim], now=now):
        raise LeaseLost(f"lease {claim.token} on activity {claim.activity_id} is gone")
    return now + timedelta(seconds=settings.CAIRN_LEASE_S)


def hold_many(claims: list[Claim], *, now: datetime) -> set[int]:
    """The fence for a batch of activities: the ids whose lease holds (renewed, and locked
    until the caller commits on PostgreSQL); their attempts' `held_until` moves too."""
    held: set[int] = set()
    by_token: dict[str, list[int]] = {}
    for claim in claims:
        by_token.setdefault(claim.token, []).append(claim.activity_id)
    for token, ids in by_token.items():
        held |= fence(Activity, ids, token, now=now)
    attempts = [c.attempt_id for c in claims if c.activity_id in held and c.attempt_id]
    if attempts:
        Attempt.objects.filter(id__in=attempts).update(held_until=_expiry(now))
    return held


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


def lease_fair(*, limit: int, now: datetime, owner: str) -> list[Lease]:
    """Lease up to `limit` due activities shared among their owners (FAIR_DUE), and move
    this process's cursor to the last owner served. A batch left short (its owners had
    fewer rows than their shares) takes the rest in turn: more of the same priority's,
    or, once they are all leased, the next priority's (SHARED_ROUNDS statements at most)."""
    token, expires = uuid.uuid4().hex, _expiry(now)
    statement, params = fair_due()
    rows: list[tuple] = []
    for _ in range(SHARED_ROUNDS):
        with connection.cursor() as cursor:
            cursor.execute(statement,
                           {**params, "token": token, "owner": owner, "expires": expires,
                            "now": now, "limit": limit - len(rows), "after": CURSOR.after})
            more = cursor.fetchall()
        CURSOR.after = next_after(CURSOR.after, [row[3] for row in more])
        rows += more
        if not more or len(rows) >= limit:
            break
    return [Lease(row_id=i, generation=g, token=token, expires_at=expires)
            for i, g, _, _ in sorted(rows)]


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


def _claim(taken: Lease, owner: str) -> Claim:
    return Claim(activity_id=taken.row_id, token=taken.token, owner=owner,
                 generation=taken.generation, expires_at=taken.expires_at)


def _not_newer() -> tuple[str, dict]:
    """SQL (over alias `a`) true when no output of the activity is newer than this code
    produces: a worker on old code (a partial deploy) leaves those to newer workers."""
    terms, params = _newer_terms()
    return (f"NOT EXISTS (SELECT 1 FROM {Derived._meta.db_table} AS d "
            f"WHERE d.activity_id = a.id AND ({terms}))"), params


def _newer_terms() -> tuple[str, dict]:
    """SQL (over alias `d`, an output) true when it is newer than this code produces."""
    terms, params = [], {}
    for n, (name, version) in enumerate(workers.code_versions().items()):
        terms.append(f"(d.deriver = %(deriver_{n})s AND d.version > %(version_{n})s)")
        params |= {f"deriver_{n}": name, f"version_{n}": version}
    return " OR ".join(terms), params


def fair_due() -> tuple[str, dict]:
    """The claim shared among owners for this database, complete, and its parameters
    but the lease's and the cursor's: FAIR_DUE (the activities with a newer output read
    once, by the index derived_by_version: normally none), or FAIR_DUE_SQLITE."""
    terms, params = _newer_terms()
    if connection.vendor != "postgresql":
        condition, params = _not_newer()
        return FAIR_DUE_SQLITE.format(condition=condition), params
    newer = f"SELECT d.activity_id FROM {Derived._meta.db_table} AS d WHERE {terms}"
    return FAIR_DUE.format(newer=newer), params


def _expiry(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.CAIRN_LEASE_S)
