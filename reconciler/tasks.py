"""django-q2 entry points. Their dotted paths are stored in q2's rows: do not rename them."""

from __future__ import annotations

import structlog
from django.conf import settings

from activities.expansion import kind as archive_kind
from reconciler import sweep
from reconciler.derivation import run
from reconciler.operations import workers
from work import clock, leases
from work.models import Attempt

#: A q2 task stops expanding an archive after this long (q2's timeout is 300 s).
EXPAND_BUDGET_S = 240.0


def nudge(activity_id: int, request_id: str | None = None) -> str:
    """Reconcile one activity now if it still needs work; a duplicate nudge is a no-op."""
    with structlog.contextvars.bound_contextvars(request_id=request_id):
        return run.run_now(activity_id, Attempt.Trigger.NUDGE)


def expand_archive(archive_id: int, request_id: str | None = None) -> str:
    """Expand an uploaded archive into activities (for at most EXPAND_BUDGET_S; the
    sweep goes on from where it stops)."""
    with structlog.contextvars.bound_contextvars(request_id=request_id,
                                                 archive_id=archive_id):
        lease = leases.claim_one(archive_kind.KIND, archive_id, now=clock.now(),
                                 owner=workers.identity(), trigger=Attempt.Trigger.NUDGE)
        if lease is None:
            return "nothing to do"
        return archive_kind.expand(lease, budget_s=EXPAND_BUDGET_S)


def sweep_due() -> int:
    """The scheduled sweep: drain due work for at most one sweep interval."""
    return sweep.drain(budget_s=max(settings.CAIRN_SWEEP_INTERVAL_S - 5, 5))
