"""The inline fallback: the queue is down, so a small upload is processed in the request.

Same claim, same reconcile_one (run.run_now), bounded by a time budget; whatever happens,
the request goes on to answer 202 and anything unfinished is left to the sweep.
"""

from __future__ import annotations

import threading
import time

import structlog
from django.db import connection

from reconciler.derivation import run
from reconciler.operations import metrics, tallies
from work.models import Attempt

log = structlog.get_logger(__name__)


def process(activity_id: int, *, budget_s: float) -> str:
    """Reconcile the activity here for at most `budget_s`; never raises.

    The work runs in a thread so that the request waits no longer than the budget even
    inside one slow deriver; the thread starts no deriver after the deadline, hands its
    lease back and stops (an Attempt with outcome `yielded`).
    """
    deadline = time.monotonic() + budget_s
    result: list[str] = []

    def work() -> None:
        try:
            result.append(run.run_now(activity_id, Attempt.Trigger.INLINE, deadline=deadline))
        except Exception:  # anything at all: the sweep will do it, the upload stands
            log.exception("inline.failed", activity_id=activity_id)
            result.append("error")
        finally:
            connection.close()  # the thread's own connection

    worker = threading.Thread(target=work, name=f"inline-{activity_id}", daemon=True)
    worker.start()
    worker.join(budget_s)
    outcome = result[0] if result else "over_budget"
    metrics.INLINE_FALLBACKS.labels(outcome=outcome).inc()
    tallies.record(tallies.INLINE_FALLBACK)
    log.info("inline.finished", activity_id=activity_id, outcome=outcome)
    return outcome
