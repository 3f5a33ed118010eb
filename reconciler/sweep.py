"""The sweep: roll versions out, then claim and run every kind of reconciled work (work.kinds):
a batch of due activities first, preview samples only when that left it idle."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import structlog
from django.conf import settings
from django.db import DatabaseError

from reconciler import deletion, expand, housekeeping, metrics, preview_kind, rollouts, workers
from reconciler import kind as activity_kind
from records import rebuild as records_rebuild
from webhooks import outbox
from work import clock, kinds
from work import leases as work_leases
from work import run as work_run
from work.models import Attempt

log = structlog.get_logger(__name__)

#: A sweep round spends at most this long expanding an archive, so that the activities
#: it imports (and everyone else's) are processed meanwhile; the next round resumes it.
ARCHIVE_BUDGET_S = 10.0


@dataclass(frozen=True)
class Round:
    claimed: int  # activities leased and reconciled
    scanned: int  # activities looked at by version rollouts
    books: int = 0  # users' record books leased or flagged (records.rebuild)

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
    outbox.deliver(now=now, owner=owner)  # posted on its own threads, apart from deriving
    scanned = rollouts.advance(now=now, batch=settings.CAIRN_ROLLOUT_BATCH)
    archives = expand.claim(limit=1, now=now, owner=owner)
    for archive in archives:
        expand.expand(archive, budget_s=ARCHIVE_BUDGET_S)
    deleted = deletion.sweep(now=now, owner=owner)
    # Kinds on the kernel (work.kinds): activities with this round's batch size.
    leased = run_kinds(now=now, owner=owner, limits={
        activity_kind.KIND.name: limit or settings.CAIRN_CLAIM_BATCH})
    claimed = leased.pop(activity_kind.KIND.name, 0)
    scanned += leased.pop(preview_kind.KIND.name, 0)
    deleted += sum(leased.values())
    # After the activities, on a clock read now: those settled this round are due already.
    books = records_rebuild.sweep(now=max(now, clock.now()), owner=owner)
    seconds = time.monotonic() - started
    metrics.SWEEPS.inc()
    metrics.SWEEP_SECONDS.observe(seconds)
    workers.beat(now=now, sweep=workers.Sweep(at=now, ms=round(seconds * 1000),
                                              claimed=claimed))
    return Round(claimed=claimed + len(archives) + deleted, scanned=scanned, books=books)


def run_kinds(*, now: datetime, owner: str,
              limits: dict[str, int] | None = None) -> dict[str, int]:
    """Claim and run each kind registered with the kernel, in the registry's order; how
    many rows of each were leased. A kind `when_idle` is left alone in a round where a
    kind before it filled its batch. One row's failure is that row's outcome (work.run);
    one kind's (its claim, its batch: the database) is logged and the other kinds go on
    (their leases run out)."""
    leased: dict[str, int] = {}
    busy = False
    for kind in kinds.ALL.values():
        if not kind.runs or (kind.when_idle and busy):
            continue
        limit = (limits or {}).get(kind.name) or kind.batch()
        try:
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


def drain(*, budget_s: float | None = None, owner: str | None = None,
          limit: int | None = None) -> int:
    """Sweep until nothing is due or the budget is spent; returns activities claimed."""
    deadline = None if budget_s is None else time.monotonic() + budget_s
    claimed = 0
    while True:
        result = sweep_once(owner=owner, limit=limit)
        claimed += result.claimed
        if not result.found_work or (deadline is not None and time.monotonic() > deadline):
            return claimed
