"""Every registered kind's rows by reconcile state, with the same fields for each: what
`drift --json`'s "work", /metrics' cairn_work_rows and the staff drift page show. A kind
registered is counted; nothing here names one."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min, Q, QuerySet

from work import kinds
from work.kinds import Kind

#: The states of a kind's rows, in the order they are shown. Of the rows that need work,
#: each is in exactly one of the first five; dead and failed rows need none.
STATES = ("due", "leased", "stale_leases", "retrying", "waiting", "dead", "failed")


def pending(kind: Kind) -> QuerySet:
    """The kind's rows that need work: its partial index on needs_work serves this."""
    return kind.model.objects.filter(kind.rows(), needs_work=True)


def count(kind: Kind, *, now: datetime) -> dict:
    """{state: n for STATES} and `oldest_due_age_s` of one kind.

    * `due`: nobody holds it and it is due: the next claims' to take;
    * `leased`: a worker holds it; `stale_leases`: its holder stopped (an orphan, taken
      over by the next claim);
    * `retrying`: unleased, not due yet, after failed attempts (backing off);
      `waiting`: unleased, not due yet, nothing failed (bytes to arrive, the store away);
    * `dead`: given up on (kind.dead), until replayed; `failed`: failed permanently
      (kind.failed; None when the kind keeps none apart).

    Two statements over the pending set (its partial indexes on needs_work) and one count
    each over the kind's dead and failed filters: what it costs grows with the drift,
    never with the table. `oldest_due_age_s` is how long the longest-due row has
    waited for a claim (None when none is due)."""
    # Unleased and leased apart: each a query its own partial index can serve (the
    # activities' activity_fair holds due_at and attempts; activity_leased is small). The
    # count is of due_at, never null, which those indexes hold (id they do not).
    waiting = pending(kind).filter(lease_token__isnull=True).aggregate(
        due=Count("due_at", filter=Q(due_at__lte=now)),
        retrying=Count("due_at", filter=Q(due_at__gt=now, attempts__gt=0)),
        waiting=Count("due_at", filter=Q(due_at__gt=now, attempts=0)),
        oldest=Min("due_at", filter=Q(due_at__lte=now)))
    held = pending(kind).filter(lease_token__isnull=False).aggregate(
        leased=Count("due_at", filter=Q(lease_expires_at__gt=now)),
        stale_leases=Count("due_at", filter=Q(lease_expires_at__lte=now)))
    oldest = waiting.pop("oldest")
    found = {state: (waiting | held)[state] for state in STATES[:5]}
    rows = kind.model.objects.filter(kind.rows())
    return {
        **found,
        "dead": rows.filter(kind.dead()).count(),
        "failed": rows.filter(kind.failed()).count() if kind.failed else None,
        "oldest_due_age_s": round((now - oldest).total_seconds(), 1) if oldest else None,
    }


def counts(*, now: datetime) -> dict[str, dict]:
    """count() of every registered kind, by name."""
    return {name: count(kind, now=now) for name, kind in sorted(kinds.ALL.items())}
