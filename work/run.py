"""Running leased rows of a kind: each row's work, whatever it raises, ends as that row's
outcome, and the next row goes on. No single row may ever stop the loop."""

from __future__ import annotations

from datetime import datetime

import structlog

from work import attempts, clock, leases, metrics, tracing
from work.kinds import Kind
from work.models import Attempt
from work.outcomes import Outcome, Retry

log = structlog.get_logger(__name__)


def run(kind: Kind, leased: list[leases.Lease]) -> dict[int, str]:
    """Run and release every leased row; the attempt's outcome by row id."""
    return {lease.row_id: run_one(kind, lease) for lease in leased}


def run_one(kind: Kind, lease: leases.Lease) -> str:
    """Run one leased row and release it with what came of it."""
    bound = log.bind(kind=kind.name, row_id=lease.row_id, lease_token=lease.token,
                     attempt=lease.attempts)
    try:
        with tracing.within(lease):
            outcome = kind.run(lease)
    except leases.LeaseLost:
        bound.warning("lease.lost")
        _end_lost(kind, lease)
        return Attempt.Outcome.LEASE_LOST
    except Exception as error:  # noqa: BLE001 (the row's outcome, never the loop's end)
        bound.exception("work.crashed", error=f"{type(error).__name__}: {error}")
        metrics.WORK_CRASHES.labels(kind=kind.name).inc()
        outcome = crashed(kind, error)
    return settle(kind, lease, outcome)


def settle(kind: Kind, lease: leases.Lease, outcome: Outcome,
           *, now: datetime | None = None) -> str:
    """Release the row with `outcome`. If even that fails (the database is away), the
    lease runs out and the next claim takes the row over: logged, never raised."""
    try:
        label = leases.release(kind, lease, outcome, now=now or clock.now())
    except Exception as error:  # noqa: BLE001 (the lease expiring is the retry)
        log.exception("work.release_failed", kind=kind.name, row_id=lease.row_id,
                      error=f"{type(error).__name__}: {error}")
        return Attempt.Outcome.LEASE_LOST
    with tracing.within(lease):
        log.info("work.released", kind=kind.name, row_id=lease.row_id, outcome=label,
                 error_code=getattr(outcome, "code", None) or None)
    return label


def crashed(kind: Kind, error: BaseException) -> Retry:
    """What a person reads when a row's work raised: retried after backoff."""
    return Retry(type(error).__name__,
                 f"Something went wrong {kind.doing} ({type(error).__name__}); it will be "
                 "tried again.")


def _end_lost(kind: Kind, lease: leases.Lease) -> None:
    try:
        attempts.end(lease, Attempt.Outcome.LEASE_LOST, now=clock.now())
    except Exception:  # noqa: BLE001 (the log row only)
        log.exception("work.attempt_end_failed", kind=kind.name, row_id=lease.row_id)
    tracing.released(lease, Attempt.Outcome.LEASE_LOST)
    metrics.WORK_ATTEMPTS.labels(kind=kind.name, outcome=Attempt.Outcome.LEASE_LOST).inc()
