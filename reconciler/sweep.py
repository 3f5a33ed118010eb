"""The sweep: roll versions out, then claim and run every kind of work on the kernel."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import structlog
from django.conf import settings
from django.db import DatabaseError

from duplicates import kind as duplicate_checks
from reconciler.operations import housekeeping, metrics, workers
from reconciler.rollouts import advance as rollouts
from records import kind as books
from segments import kind as segments
from sharing import kind as sharing_kinds
from training import kind as training_books
from work import clock, kinds
from work import leases as work_leases
from work import run as work_run
from work.models import Attempt

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Round:
    claimed: int  # rows leased and run: activities and the kinds before them
    scanned: int  # activities looked at by version rollouts, preview samples computed
    books: int = 0  # users' record and training books flagged, and late kinds' rows leased

    @property
    def found_work(self) -> bool:
        return bool(self.claimed or self.scanned or self.books)


def sweep_once(*, owner: str | None = None, limit: int | None = None,
               now: datetime | None = None) -> Round:
    """One round. `now` is read once from the shared clock unless a test passes it."""
    owner = owner or workers.identity()
    now = now or clock.now()
    started = time.monotonic()
    if not workers.may_claim(now=now):
        workers.beat(now=now)
        return Round(claimed=0, scanned=0)
    housekeeping.tidy(now=now)
    scanned = rollouts.advance(now=now, batch=settings.CAIRN_ROLLOUT_BATCH)
    # Kinds on the kernel (work.kinds): activities with this round's batch size.
    leased = run_kinds(now=now, owner=owner, limits={
        "activity": limit or settings.CAIRN_CLAIM_BATCH})
    claimed = leased.pop("activity", 0)
    scanned += leased.pop("preview", 0)
    # After the activities, on a clock read now: those settled this round are due already.
    later = max(now, clock.now())
    done = (books.flag(now=later) + training_books.flag(now=later) + segments.flag(now=later)
            + duplicate_checks.flag(now=later) + sharing_kinds.flag_heat(now=later)
            + sum(run_kinds(now=later, owner=owner, late=True).values()))
    seconds = time.monotonic() - started
    metrics.SWEEPS.inc()
    metrics.SWEEP_SECONDS.observe(seconds)
    workers.beat(now=now, sweep=workers.Sweep(at=now, ms=round(seconds * 1000),
                                              claimed=claimed))
    return Round(claimed=claimed + sum(leased.values()), scanned=scanned, books=done)


def run_kinds(*, now: datetime, owner: str, late: bool = False,
              limits: dict[str, int] | None = None) -> dict[str, int]:
    """Claim and run each kind registered with the kernel, in ORDER: those before the
    activities (and the activities), or (`late`) those after them; how many rows of each
    were leased. A kind `when_idle` is left alone in a round where a kind before it
    filled its batch. One row's failure is that row's outcome (work.run); one kind's (its
    claim, its batch: the database) is logged and the other kinds go on (their leases
    run out)."""
    leased: dict[str, int] = {}
    busy = False
    for kind in ordered(late=late):
        if not (kind.runs or kind.sweep) or (kind.when_idle and busy):
            continue
        limit = (limits or {}).get(kind.name) or kind.batch()
        try:
            if kind.sweep is not None:  # its rows run elsewhere (deliveries: threads)
                leased[kind.name] = kind.sweep(now=now, owner=owner)
                continue
            taken = work_leases.claim(kind, limit=limit, now=now, owner=owner,
                                      trigger=Attempt.Trigger.SWEEP)
            if kind.run_batch is not None:
                kind.run_batch(taken)
            else:
                work_run.run(kind, taken)
        except DatabaseError as error:
            log.warning("work.claim_failed", kind=kind.name, error=str(error))
            continue
        leased[kind.name] = len(taken)
        busy = busy or len(taken) >= limit
    return leased


#: The order of a round's kinds: deliveries first (they are posted on their own threads
#: while the rest runs), archives before the activities they make, a rollout's preview
#: samples after the activities (and only when they left the round idle), public copies
#: and then the public heatmaps drawn from them (a change's copies cut and drawn in one
#: round), books (records,
#: then training, then the duplicates checks) after the activities settled this round
#: (on a clock read after them), then activities matched against segments (fresh uploads
#: first), a chunk of each new segment's backfill over past activities, and last a step
#: of each bulk export (a zip of many activities waits behind everything fresher).
#: Kinds not named here run before the activities, as registered.
ORDER = ("delivery", "archive", "deletion", "session", "activity", "preview", "public",
         "public_heat", "book", "training", "duplicates", "segment_match", "segment", "export")
#: The first of the kinds that run after the activities.
LATE = "book"


def ordered(*, late: bool = False) -> list[kinds.Kind]:
    """The registered kinds in a round's order: those before the activities (and the
    activities), or (`late`) those after them."""
    rank = {name: float(n) for n, name in enumerate(ORDER)}
    unnamed = rank["activity"] - 0.5
    return sorted((kind for kind in kinds.ALL.values()
                   if (rank.get(kind.name, unnamed) >= rank[LATE]) == late),
                  key=lambda kind: rank.get(kind.name, unnamed))


def drain(*, budget_s: float | None = None, owner: str | None = None,
          limit: int | None = None) -> int:
    """Sweep until nothing is due or the budget is spent; returns rows claimed."""
    deadline = None if budget_s is None else time.monotonic() + budget_s
    claimed = 0
    while True:
        result = sweep_once(owner=owner, limit=limit)
        claimed += result.claimed
        if not result.found_work or (deadline is not None and time.monotonic() > deadline):
            return claimed
