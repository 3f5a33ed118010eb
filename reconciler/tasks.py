"""django-q2 entry points. Their dotted paths are stored in q2's rows: do not rename them."""

from __future__ import annotations

import structlog
from django.conf import settings

from reconciler import clock, leases, sweep, workers
from reconciler.models import Attempt
from reconciler.reconcile import reconcile_one


def nudge(activity_id: int, request_id: str | None = None) -> str:
    """Reconcile one activity now if it still needs work; a duplicate nudge is a no-op."""
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        return _nudge(activity_id)


def _nudge(activity_id: int) -> str:
    now = clock.now()
    workers.beat(now=now)
    if not workers.may_claim(now=now):
        return "outdated code: left to newer workers"
    claim = leases.claim_one(activity_id, now=now, owner=workers.identity())
    if claim is None:
        return "nothing to do"
    return reconcile_one(claim, trigger=Attempt.Trigger.NUDGE)


def sweep_due() -> int:
    """The scheduled sweep: drain due work for at most one sweep interval."""
    return sweep.drain(budget_s=max(settings.CAIRN_SWEEP_INTERVAL_S - 5, 5))
