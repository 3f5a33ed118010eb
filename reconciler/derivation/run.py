"""Reconciling one given activity here and now: the q2 nudge, the inline fallback and
`import_activities --wait` all come through run_now."""

from __future__ import annotations

from reconciler.derivation import kind
from reconciler.derivation.reconcile import reconcile_one
from reconciler.operations import workers
from work import clock

#: run_now's answers when it reconciled nothing (otherwise it returns the attempt's outcome).
OUTDATED = "outdated"
NOTHING_TO_DO = "nothing to do"


def run_now(activity_id: int, trigger: str, deadline: float | None = None) -> str:
    """Claim this activity and reconcile it in this process; the attempt's outcome, or
    OUTDATED / NOTHING_TO_DO. Never waits for a lease.

    The guards, the union of what its callers needed:
    1. a heartbeat (throttled), so that drift lists this process and its code versions;
    2. older code than a live worker's steps aside (a partial deploy): OUTDATED;
    3. the claim leases it only if it needs work, is due and nobody holds a live lease
       (a duplicate nudge writes nothing; an orphan at CAIRN_MAX_ATTEMPTS is made dead):
       NOTHING_TO_DO otherwise;
    4. with a `deadline` (time.monotonic()), no deriver starts after it: the lease is
       handed back and the sweep goes on (outcome `yielded`).
    """
    now = clock.now()
    workers.beat(now=now)
    if not workers.may_claim(now=now):
        return OUTDATED
    claim = kind.claim_one(activity_id, now=now, owner=workers.identity(), trigger=trigger)
    if claim is None:
        return NOTHING_TO_DO
    return reconcile_one(claim, trigger=trigger, deadline=deadline)
