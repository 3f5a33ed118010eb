"""The sweep: roll versions out, claim a batch of due activities, reconcile each."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from reconciler import clock, deletion, expand, housekeeping, leases, metrics, rollouts, workers
from reconciler.models import Attempt
from reconciler.reconcile import reconcile_batch
from records import rebuild as records_rebuild
from transfers import settle as transfers_settle
from webhooks import outbox

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
    deleted += transfers_settle.sweep(now=now, owner=owner)  # upload sessions (transfers/)
    claims = leases.claim(limit=limit or settings.CAIRN_CLAIM_BATCH, now=now, owner=owner)
    reconcile_batch(claims, trigger=Attempt.Trigger.SWEEP)
    # After the activities, on a clock read now: those settled this round are due already.
    books = records_rebuild.sweep(now=max(now, clock.now()), owner=owner)
    scanned += rollouts.preview(now=now, busy=len(claims) >= (limit or settings.CAIRN_CLAIM_BATCH))
    seconds = time.monotonic() - started
    metrics.SWEEPS.inc()
    metrics.SWEEP_SECONDS.observe(seconds)
    workers.beat(now=now, sweep=workers.Sweep(at=now, ms=round(seconds * 1000),
                                              claimed=len(claims)))
    return Round(claimed=len(claims) + len(archives) + deleted, scanned=scanned, books=books)


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
