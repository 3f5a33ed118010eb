"""Leases on the rows of every kind: take them (the kind's claim statements), renew and
check them (the fence), and hand them back with an outcome (release). This module is the
only writer of lease fields in the project.

A row is being worked on exactly while it carries a lease token. Each lease taken counts
an attempt in the statement that takes it, so a process that dies holding it has used one
all the same; an expired lease nobody released is the only thing called WorkerDied.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Model

from core import backoff
from work import attempts, batched, clock, freshness, metrics, tracing
from work.kinds import Kind
from work.models import Attempt
from work.outcomes import Dead, Done, Failed, Outcome, Retry, Wait

log = structlog.get_logger(__name__)

#: The reason code of a row whose holders kept dying, and of their attempts.
WORKER_DIED = "WorkerDied"


@dataclass(frozen=True, kw_only=True)
class Lease:
    """One row of one kind, leased: its token fences every write made under it."""

    kind: str
    row_id: int
    generation: int
    token: str
    owner: str
    expires_at: datetime
    #: The row's count of attempts, this one included.
    attempts: int
    #: Its previous lease had expired: the holder stopped before releasing it.
    orphan: bool = False
    #: The attempt logging this lease (work.attempts), once started.
    attempt_id: int | None = None
    started_at: datetime | None = None


class LeaseLost(Exception):
    """The lease expired or was taken: the holder must stop and discard its results."""


#: The fence: renew the lease on those of the rows {ids} that the token still holds and
#: whose lease has not expired; on PostgreSQL they stay locked until the caller commits.
#: {ids} is one array parameter on PostgreSQL (one statement text for any batch, which
#: psycopg converts once and PostgreSQL keeps prepared), a list of them on SQLite.
RENEW = """
UPDATE {table}
   SET lease_expires_at = %(expires)s, due_at = %(expires)s
 WHERE {ids} AND lease_token = %(token)s AND lease_expires_at > %(now)s
RETURNING id, generation, attempts
"""


def expiry(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.CAIRN_LEASE_S)


# --- taking leases ---------------------------------------------------------------------

def claim(kind: Kind, *, limit: int, now: datetime, owner: str, trigger: str) -> list[Lease]:
    """Lease up to `limit` rows of `kind` that are due; an empty list means none is.

    1. Orphans that have used the kind's maximum attempts are dead (bury), never leased.
    2. One orphan, alone, so that work that kills its worker costs nobody else a lease;
       first, so that a rescue takes one lease period plus one sweep however much other
       work waits. Its dead holder's attempt is closed as worker_died.
    3. Else, unless the kind's gate finds nothing due, up to `limit` rows in the order of
       the kind's `due` statement.
    Each lease opens an attempt (one statement for the batch).
    """
    bury(kind, now=now)
    started_ns = time.time_ns()
    taken: list[Lease] = []
    if kind.statements.orphan:
        taken = _run(kind, kind.statements.orphan, now=now, owner=owner, limit=1, orphan=True)
        if taken:
            attempts.close_died(kind.name, [taken[0].row_id])
            metrics.EXPIRED_LEASES.labels(outcome="reclaimed").inc()
            log.info("lease.taken_over", kind=kind.name, row_id=taken[0].row_id)
    if not taken and _may_be_due(kind, now):
        due = kind.statements.due
        if connection.vendor != "postgresql" and kind.statements.due_sqlite:
            due = kind.statements.due_sqlite
        taken = _run(kind, due, now=now, owner=owner, limit=limit,
                     after=CURSORS.get(kind.name, 0))
        # Shared among owners, a batch is left short when its owners had fewer rows than
        # their shares: the rest are taken in turn (the next priority's once the first's
        # are all leased), in SHARED_ROUNDS statements at most.
        for _ in range(SHARED_ROUNDS - 1):
            if not taken or len(taken) >= limit or kind.name not in CURSORS:
                break
            more = _run(kind, due, now=now, owner=owner, limit=limit - len(taken),
                        after=CURSORS[kind.name])
            if not more:
                break
            taken += more
    taken = attempts.start(taken, trigger=trigger, now=now, versions=kind.versions())
    tracing.claimed(kind, taken, trigger=trigger, started_ns=started_ns)
    return taken


def claim_one(kind: Kind, row_id: int, *, now: datetime, owner: str,
              trigger: str) -> Lease | None:
    """Lease this row if it is due and nobody holds it; None otherwise. The read comes
    first, so that a duplicate nudge for a settled row writes nothing at all; an orphan
    that has used the kind's attempts is buried instead."""
    found = kind.model.objects.filter(id=row_id, needs_work=True, due_at__lte=now,
                                      **kind.scope).values_list("lease_token", "attempts").first()
    if found is None or kind.statements.one is None:
        return None
    orphan = found[0] is not None
    ceiling = kind.max_attempts()
    if orphan and ceiling is not None and found[1] >= ceiling:
        bury(kind, now=now, ids=[row_id])
        return None
    started_ns = time.time_ns()
    taken = _run(kind, kind.statements.one, now=now, owner=owner, row_id=row_id, orphan=orphan)
    if not taken:
        return None
    if orphan:
        attempts.close_died(kind.name, [row_id])
        metrics.EXPIRED_LEASES.labels(outcome="reclaimed").inc()
    taken = attempts.start(taken, trigger=trigger, now=now, versions=kind.versions())
    tracing.claimed(kind, taken, trigger=trigger, started_ns=started_ns)
    return taken[0]


def _run(kind: Kind, statement: str, *, now: datetime, owner: str, orphan: bool = False,
         **extra) -> list[Lease]:
    token, expires = uuid.uuid4().hex, expiry(now)
    lock = "FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(statement.format(lock=lock),
                       {**kind.params(), **extra, "token": token, "owner": owner,
                        "expires": expires, "now": now})
        rows = cursor.fetchall()
    if rows and len(rows[0]) > 3:  # shared among owners: the next claim starts after these
        CURSORS[kind.name] = next_after(extra.get("after", 0), [row[3] for row in rows])
    return [Lease(kind=kind.name, row_id=row[0], generation=row[1], attempts=row[2],
                  token=token, owner=owner, expires_at=expires, orphan=orphan)
            for row in sorted(rows)]


#: Statements a claim shared among owners runs at most to fill its batch.
SHARED_ROUNDS = 3

#: Per kind whose `due` shares rows among owners: the owner after which this process's
#: next claim starts (each sweeper keeps its own; they rotate alike).
CURSORS: dict[str, int] = {}


def next_after(after: int, served: list[int]) -> int:
    """Where the next claim shared among owners starts: the last owner this one served,
    in its order (the owners after `after` came before those from the start)."""
    if not served:
        return after
    wrapped = [owner for owner in served if owner <= after]
    return max(wrapped or served)


# --- the fence -------------------------------------------------------------------------

def fenced(kind: Kind, row_ids: list[int], token: str, *,
           now: datetime) -> dict[int, tuple[int, int]]:
    """The one fence of every kind: renew the lease of the rows this token still holds,
    inside the caller's transaction; their (generation, attempts) by id. A writer writes
    only the rows returned, in the same transaction (no claimer can take them meanwhile).
    """
    if not row_ids:
        return {}
    if connection.vendor == "postgresql":
        ids, match = {"ids": list(row_ids)}, "id = ANY(%(ids)s::bigint[])"
    else:
        ids = {f"id_{n}": row_id for n, row_id in enumerate(row_ids)}
        match = f"id IN ({', '.join(f'%({k})s' for k in ids)})"
    sql = RENEW.format(table=kind.model._meta.db_table, ids=match)
    with connection.cursor() as cursor:
        cursor.execute(sql, {**ids, "token": token, "expires": expiry(now), "now": now})
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def hold_many(kind: Kind, leased: list[Lease], *, now: datetime) -> dict[int, tuple[int, int]]:
    """The fence for a batch (of one token or several): renew the leases that still hold,
    inside the caller's transaction, and their attempts' `held_until` with them; the
    rows' (generation, attempts) by id."""
    by_token: dict[str, list[int]] = {}
    for lease in leased:
        by_token.setdefault(lease.token, []).append(lease.row_id)
    held: dict[int, tuple[int, int]] = {}
    for token, ids in by_token.items():
        held |= fenced(kind, ids, token, now=now)
    opened = [lease.attempt_id for lease in leased if lease.row_id in held and lease.attempt_id]
    if opened:
        Attempt.objects.filter(id__in=opened).update(held_until=expiry(now))
    return held


def hold(kind: Kind, lease: Lease, *, now: datetime) -> tuple[int, int]:
    """Check and renew one lease inside the caller's transaction: the row's (generation,
    attempts), or LeaseLost. Its attempt's `held_until` moves in the same transaction."""
    found = fenced(kind, [lease.row_id], lease.token, now=now)
    if lease.row_id not in found:
        raise LeaseLost(f"lease {lease.token} on {kind.name} {lease.row_id} is gone")
    if lease.attempt_id:
        Attempt.objects.filter(id=lease.attempt_id).update(held_until=expiry(now))
    return found[lease.row_id]


def progressed(kind: Kind, lease: Lease) -> None:
    """The work moved on under this lease (an archive recorded a member): only this
    attempt counts now, so that long work whose holders die for other reasons is not
    given up on, while a step that kills every holder still is. Inside the caller's
    transaction, after `hold`."""
    kind.model.objects.filter(id=lease.row_id, lease_token=lease.token).update(attempts=1)


# --- releasing -------------------------------------------------------------------------

def release(kind: Kind, lease: Lease, outcome: Outcome, *, now: datetime) -> str:
    """Write `outcome` for the leased row under the fence, and end its attempt, in one
    transaction; returns the attempt's outcome ("lease_lost" when someone else holds the
    row now: nothing is written)."""
    with transaction.atomic():
        found = fenced(kind, [lease.row_id], lease.token, now=now)
        if lease.row_id not in found and _removed(kind, lease, outcome):
            label, code, message = Attempt.Outcome.CONVERGED, "", ""
        elif lease.row_id not in found:
            label, code, message = Attempt.Outcome.LEASE_LOST, "", ""
        else:
            generation, count = found[lease.row_id]
            fields, label = released(kind, outcome, generation=generation,
                                     claimed=lease.generation, attempts=count, now=now)
            if fields.get("needs_work") is False:  # done with: how long it took
                since, priority = kind.model.objects.filter(id=lease.row_id).values_list(
                    "pending_since", "priority").get()
                freshness.settled(kind, since=since, priority=priority, outcome=label, now=now)
            kind.model.objects.filter(id=lease.row_id).update(**fields)
            code, message = said(outcome)
        attempts.end(lease, label, now=now, code=code, message=message,
                     detail=outcome.detail)
    tracing.released(lease, label, code=code)
    metrics.WORK_ATTEMPTS.labels(kind=kind.name, outcome=label).inc()
    if label == Attempt.Outcome.LEASE_LOST:
        log.warning("lease.lost", kind=kind.name, row_id=lease.row_id, lease_token=lease.token)
    return label


def _removed(kind: Kind, lease: Lease, outcome: Outcome) -> bool:
    """The work was to remove the row (a deletion), and it did: every step ran under the
    fence, so a Done for a row that is gone is done, not a lost lease."""
    return (isinstance(outcome, Done)
            and not kind.model.objects.filter(id=lease.row_id).exists())


#: What a batch release writes besides the kind's own columns: every field released() may
#: set (a row's value is written back unchanged where its outcome leaves one alone).
RELEASED = ("lease_token", "lease_owner", "lease_expires_at", "attempts", "due_at",
            "needs_work", "pending_since")


def release_batch(kind: Kind, outcomes: list[tuple[Lease, Outcome]], rows: dict[int, Model],
                  *, now: datetime, columns: tuple[str, ...]) -> dict[int, str]:
    """Write the outcomes of a batch of leased rows in one statement, and end their
    attempts in another: for a kind whose work writes a batch at once (activities).

    The caller fenced the rows in this transaction (hold_many) and read them, locked:
    `rows`, by id (a lease without its row here was lost: nothing is written for it).
    Each row's fields come from the one policy (released), set on the instance; written
    are the lease fields and the kind's `columns` (every field its outcomes may carry).
    Returns the attempts' outcomes by row id."""
    labels: dict[int, str] = {}
    written: list[Model] = []
    ended: list[tuple[Lease, str, Outcome]] = []
    for lease, outcome in outcomes:
        row = rows.get(lease.row_id)
        if row is None:
            label = Attempt.Outcome.LEASE_LOST
        else:
            fields, label = released(kind, outcome, generation=row.generation,
                                     claimed=lease.generation, attempts=row.attempts, now=now)
            unwritten = fields.keys() - {*RELEASED, *columns}
            if unwritten:  # a kind's mistake, never data: it would be silently dropped
                raise ValueError(f"{kind.name} outcome sets {sorted(unwritten)}, not in columns")
            if fields.get("needs_work") is False:  # done with: how long it took
                freshness.settled(kind, since=row.pending_since, priority=row.priority,
                                  outcome=label, now=now)
            for name, value in fields.items():
                setattr(row, name, value)
            written.append(row)
        labels[lease.row_id] = label
        ended.append((lease, label, outcome))
    batched.update_by_id(kind.model, written, (*RELEASED, *columns))
    attempts.end_many([(lease, label, *said(outcome), outcome.detail)
                       for lease, label, outcome in ended], now=now)
    for lease, label, outcome in ended:
        tracing.released(lease, label, code=said(outcome)[0])
        metrics.WORK_ATTEMPTS.labels(kind=kind.name, outcome=label).inc()
        if label == Attempt.Outcome.LEASE_LOST:
            log.warning("lease.lost", kind=kind.name, row_id=lease.row_id,
                        lease_token=lease.token)
    return labels


def said(outcome: Outcome) -> tuple[str, str]:
    """The reason code and sentence an attempt keeps (a wait's reason: what it waits for)."""
    if isinstance(outcome, Wait):
        return outcome.reason, ""
    return getattr(outcome, "code", ""), getattr(outcome, "message", "")


def released(kind: Kind, outcome: Outcome, *, generation: int, claimed: int, attempts: int,
             now: datetime) -> tuple[dict, str]:
    """The row's fields after `outcome`, and the attempt's outcome: the one policy of
    every kind (for a kind that writes a batch itself, as activities do).

    `generation` is the row's now and `claimed` the one its lease took: when they differ
    the work was asked for again meanwhile, so a finished row stays due, at once."""
    fields: dict = {"lease_token": None, "lease_owner": "", "lease_expires_at": None}
    asked_again = generation != claimed
    if isinstance(outcome, Wait):
        fields |= outcome.fields | kind.due_fields()
        fields |= {"attempts": max(attempts - 1, 0),
                   "due_at": now if asked_again else outcome.until}
        return fields, outcome.label
    if isinstance(outcome, Retry):
        ceiling = kind.max_attempts()
        if ceiling is None or attempts < ceiling:
            base_s, cap_s = kind.backoff()
            fields |= kind.error_fields(outcome.code, outcome.message) | outcome.fields
            fields |= kind.due_fields()
            fields["due_at"] = backoff.next_attempt_at(attempts, now=now, base_s=base_s,
                                                       cap_s=cap_s)
            return fields, Attempt.Outcome.RETRYING
        outcome = Dead(outcome.code, outcome.message, outcome.fields, outcome.detail)
    if isinstance(outcome, Dead):
        fields |= kind.error_fields(outcome.code, outcome.message) | outcome.fields
        fields |= kind.dead_fields(now) | {"needs_work": False, "pending_since": None,
                                           "due_at": now}
        return fields, Attempt.Outcome.DEAD
    if isinstance(outcome, Failed):
        fields |= kind.error_fields(outcome.code, outcome.message) | outcome.fields
        label = Attempt.Outcome.FAILED
    elif isinstance(outcome, Done):
        fields |= outcome.fields
        label = Attempt.Outcome.CONVERGED
    else:
        raise TypeError(f"not an outcome: {outcome!r}")
    fields["attempts"] = 0
    fields["due_at"] = now
    if asked_again or outcome.again:
        fields |= kind.due_fields() | {"needs_work": True}
    else:
        fields |= {"needs_work": False, "pending_since": None}
    return fields, label


def give_back(kind: Kind, leases: list[Lease], *, due_at: datetime,
              now: datetime | None = None) -> None:
    """Hand leases back untouched (not tried: a breaker said wait, another job holds the
    destination): the attempts the claim counted are returned, and their log rows go.
    `due_at` may be past the leases' expiry (a breaker open for minutes): the fence is
    checked at `now`."""
    now = now or clock.now()
    for lease in leases:
        tracing.released(lease, "given_back")
        with transaction.atomic():
            if lease.row_id not in fenced(kind, [lease.row_id], lease.token, now=now):
                continue
            kind.model.objects.filter(id=lease.row_id).update(
                lease_token=None, lease_owner="", lease_expires_at=None, due_at=due_at,
                attempts=max(lease.attempts - 1, 0))
            attempts.forget(lease)


# --- giving up on orphans --------------------------------------------------------------

def bury(kind: Kind, *, now: datetime, ids: list[int] | None = None) -> list[int]:
    """Give up on the orphans of `kind` that have used its maximum attempts (of `ids`, or
    any): WorkerDied, with a sentence, the kind's dead fields, their open attempts closed.
    Returns their ids. Normally an index probe that finds nothing."""
    ceiling = kind.max_attempts()
    if ceiling is None:
        return []
    # Read first: a sweep that finds none (the rule) takes no lock and opens no write.
    if ids is None and not _any_spent(kind, now, ceiling):
        return []
    spent = kind.model.objects.filter(needs_work=True, lease_token__isnull=False,
                                      due_at__lte=now, attempts__gte=ceiling, **kind.scope)
    if ids is not None:
        spent = spent.filter(id__in=ids)
        if not spent.exists():
            return []
    with transaction.atomic():
        found = list(spent.select_for_update(skip_locked=True)
                     .values_list("id", "attempts", "lease_expires_at", "pending_since",
                                  "priority")[:100])
        for row_id, count, expired, _, _ in found:
            # The holder last renewed (or took) the lease one lease period before it ran
            # out, and died within a third of a lease after that.
            last_seen = expired - timedelta(seconds=settings.CAIRN_LEASE_S) if expired else None
            message = died(kind, attempts=count, last_seen=last_seen)
            kind.model.objects.filter(id=row_id).update(
                needs_work=False, lease_token=None, lease_owner="", lease_expires_at=None,
                pending_since=None, due_at=now, **kind.error_fields(WORKER_DIED, message),
                **kind.dead_fields(now))
        buried = [row_id for row_id, *_ in found]
        attempts.close_died(kind.name, buried)
    for row_id, count, _, since, priority in found:
        metrics.EXPIRED_LEASES.labels(outcome="dead").inc()
        freshness.settled(kind, since=since, priority=priority, outcome=Attempt.Outcome.DEAD,
                          now=now)
        log.warning("lease.given_up", kind=kind.name, row_id=row_id, attempts=count)
    return buried


def _may_be_due(kind: Kind, now: datetime) -> bool:
    """False when the kind's gate says nothing is due (its `due` is then not even run)."""
    if kind.statements.gate is None:
        return True
    with connection.cursor() as cursor:
        cursor.execute(kind.statements.gate, {**kind.params(), "now": now})
        return cursor.fetchone() is not None


def _any_spent(kind: Kind, now: datetime, ceiling: int) -> bool:
    """Whether any orphan of `kind` has used `ceiling` attempts: bury's probe in every
    claim, as a statement compiled once per kind (building the query each time cost more
    than the rest of an idle claim together)."""
    key = (kind.name, connection.vendor)
    if key not in _SPENT:
        fixed = kind.model.objects.filter(needs_work=True, lease_token__isnull=False,
                                          **kind.scope).order_by().values("id")
        sql, params = fixed.query.sql_with_params()
        quote = connection.ops.quote_name
        _SPENT[key] = (f"{sql} AND {quote('due_at')} <= %s AND {quote('attempts')} >= %s "
                       "LIMIT 1", params)
    sql, params = _SPENT[key]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, now, ceiling])
        return cursor.fetchone() is not None


#: bury's probe by (kind, database vendor): its SQL and the parameters of its fixed part.
_SPENT: dict[tuple[str, str], tuple[str, tuple]] = {}


def died(kind: Kind, *, attempts: int, last_seen: datetime | None) -> str:
    """What a person reads on a row given up on after its workers kept dying."""
    when = f" (last at {last_seen:%H:%M:%S} UTC)" if last_seen else ""
    return (f"The worker {kind.doing} stopped {attempts} times before finishing{when}; it "
            f"will not be tried again until {kind.replayed}.")
