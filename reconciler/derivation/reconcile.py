"""Reconciling leased activities: bring their derived data up to the current versions.

Every trigger (nudge, sweep, inline fallback, command, admin) goes through
reconcile_batch; reconcile_one is a batch of one. The shape: observe what is stored,
derive what differs, settle (reconciler/derivation/settle.py).
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from django.db import transaction

from activities import revisions
from activities.models import Derived
from core import derivers, plan
from core.derivers import DeriveError, Deriver
from reconciler.derivation import settle
from reconciler.derivation.kind import KIND
from reconciler.derivation.renewal import Renewal
from reconciler.derivation.settle import Output, Round
from reconciler.operations import metrics
from reconciler.rollouts import state as rollout_state
from work import clock, leases, tracing
from work.leases import Lease

log = structlog.get_logger(__name__)

#: A deriver that ran this long has its output stored at once, so that a crash after it
#: never costs the work again; quicker outputs are stored with the activities' new state,
#: in one transaction for the whole batch.
STORE_AT_ONCE_S = 1.0


def reconcile_one(claim: Lease, *, trigger: str, deadline: float | None = None) -> str:
    """Converge one activity under `claim`; returns the attempt's outcome."""
    return reconcile_batch([claim], trigger=trigger, deadline=deadline)[claim.row_id]


def reconcile_batch(claims: list[Lease], *, trigger: str,
                    deadline: float | None = None) -> dict[int, str]:
    """Converge leased activities (the claim opened their attempts); the attempt's outcome
    of each, by activity id.

    1. One query reads what is stored, one the inputs.
    2. Each activity is derived in turn, no transaction open, one thread renewing every
       lease; derivers whose output is current do not run. With a `deadline`
       (time.monotonic()), no deriver starts after it: the lease is handed back.
    3. Settle (settle.py): one fenced transaction stores every output and records every
       new state; an activity whose lease is gone gets nothing written.
    """
    if not claims:
        return {}
    started = time.monotonic()
    metrics.CLAIMS.labels(trigger=trigger).inc(len(claims))
    rounds = _observe(claims)
    with Renewal(claims) as renewal:
        for claim in claims:
            with (structlog.contextvars.bound_contextvars(activity_id=claim.row_id),
                  tracing.within(claim)):
                _derive_all(claim, rounds[claim.row_id], renewal, deadline=deadline)
    now = clock.now()  # one reading: the settle's time is when the attempts ended
    with tracing.step(claims, "settle"):
        outcomes = settle.settle(claims, rounds, now=now)
    _finish(claims, rounds, outcomes, trigger=trigger, seconds=time.monotonic() - started)
    return outcomes


def _observe(claims: list[Lease]) -> dict[int, Round]:
    """What is stored for each activity, what to run, and the stored inputs it reads."""
    ids = [c.row_id for c in claims]
    rounds = {i: Round(stored={}) for i in ids}
    for activity_id, name, version, status, digest in Derived.objects.filter(
            activity_id__in=ids).values_list("activity_id", "deriver", "version", "status",
                                             "digest"):
        rounds[activity_id].stored[name] = plan.Stored(
            version, status, bytes(digest) if digest is not None else None)
    wanted: set[tuple[int, str]] = set()
    held = rollout_state.held()
    for activity_id, result in rounds.items():
        result.todo = plan.todo(result.stored, derivers.ALL, held)
        result.outdated = {d.name for d in result.todo
                           if plan.outdated(result.stored.get(d.name), d, held)}
        names = {d.name for d in result.todo}
        wanted |= {(activity_id, need) for d in result.todo for need in d.needs
                   if need not in names}
    if wanted:
        rows = Derived.objects.filter(
            activity_id__in={i for i, _ in wanted}, deriver__in={n for _, n in wanted},
            data__isnull=False).values_list("activity_id", "deriver", "data")
        for activity_id, name, data in rows:
            if (activity_id, name) in wanted:
                rounds[activity_id].values[name] = derivers.BY_NAME[name].codec.loads(
                    bytes(data))
    return rounds


def _derive_all(claim: Lease, result: Round, renewal: Renewal, *,
                deadline: float | None) -> None:
    for deriver in result.todo:
        if result.lost or claim.row_id in renewal.lost:
            result.lost = True  # someone else holds it now: stop, throw everything away
            return
        if any(n in result.permanent or n in result.transient for n in deriver.needs):
            continue  # an input failed in this round: it is retried with it
        if deriver.name not in result.outdated and all(
                n not in result.ran or n in result.same_bytes for n in deriver.needs):
            continue  # chosen for an input that was rebuilt to the bytes already stored
        if deadline is not None and time.monotonic() > deadline:
            result.out_of_time = True
            return
        result.ran.append(deriver.name)
        started = time.monotonic()
        try:
            _derive(claim, deriver, result)
        except DeriveError as error:
            _failed(deriver, error, result, started)
            continue
        except Exception as error:  # a bug or an outage: transient, retried with backoff
            result.transient[deriver.name] = error
            metrics.DERIVES.labels(deriver=deriver.name, result="crashed").inc()
            log.exception("derive.crashed", deriver=deriver.name, lease_token=claim.token)
            continue
        if time.monotonic() - started >= STORE_AT_ONCE_S:
            _store_at_once(claim, result)


def _derive(claim: Lease, deriver: Deriver, result: Round) -> None:
    """Run one deriver; its bytes are stored, and later derivers read exactly what a
    rebuild will read: those bytes decoded, not the value in memory."""
    with (metrics.DERIVE_SECONDS.labels(deriver=deriver.name).time(),
          tracing.span(f"derive {deriver.name}", version=deriver.version)):
        started = time.monotonic()
        value = deriver.derive(*_inputs(claim, deriver, result))
        data = deriver.codec.dumps(value)
        value = deriver.codec.loads(data)
    result.values[deriver.name] = value
    metrics.DERIVES.labels(deriver=deriver.name, result="ready").inc()
    digest = derivers.digest(data)
    stored = result.stored.get(deriver.name)
    if stored is not None and stored.digest == digest:
        result.same_bytes.add(deriver.name)
    result.unstored.append(Output(deriver, Derived.Status.READY, data, None,
                                   _ms_since(started), digest))


def _failed(deriver: Deriver, error: DeriveError, result: Round, started: float) -> None:
    metrics.DERIVES.labels(deriver=deriver.name,
                           result="failed" if error.permanent else "retrying").inc()
    if not error.permanent:
        result.transient[deriver.name] = error
        log.warning("derive.failed", deriver=deriver.name, error_code=error.code,
                    permanent=False)
        return
    result.permanent[deriver.name] = error
    result.unstored.append(Output(deriver, Derived.Status.FAILED, None, error,
                                   _ms_since(started)))
    log.info("derive.failed", deriver=deriver.name, error_code=error.code, permanent=True)


def _inputs(claim: Lease, deriver: Deriver, result: Round) -> list[Any]:
    if deriver.name == "track":
        # Only `track` reads the original; it is the one dear decode (DESIGN "Parse once").
        # Another deriver that needs nothing gets nothing (the benchmark's no-op floor).
        # With the current revision's edits (activities.revisions).
        return revisions.track_inputs(claim.row_id)
    missing = [n for n in deriver.needs if n not in result.values]
    if missing:  # read by _observe; gone only if the stored output changed since
        raise RuntimeError(f"stored input {missing} of activity {claim.row_id} is gone")
    return [result.values[n] for n in deriver.needs]


def _store_at_once(claim: Lease, result: Round) -> None:
    with transaction.atomic():
        if claim.row_id not in leases.hold_many(KIND, [claim], now=clock.now()):
            result.lost = True
            return
        settle.store({claim.row_id: result}, now=clock.now())


def _finish(claims: list[Lease], rounds: dict[int, Round], outcomes: dict[int, str], *,
            trigger: str, seconds: float) -> None:
    """Count and log each attempt (the settle ended them)."""
    for claim in claims:
        result, outcome = rounds[claim.row_id], outcomes[claim.row_id]
        code, _ = result.first_failure()
        metrics.ATTEMPTS.labels(trigger=trigger, outcome=outcome).inc()
        with tracing.within(claim):
            log.info("reconcile.finished", activity_id=claim.row_id, outcome=outcome,
                     derivers=result.ran, error_code=code or None, lease_token=claim.token,
                     worker=claim.owner, trigger=trigger,
                     ms=round(seconds * 1000 / len(claims), 1))
        metrics.RECONCILE_SECONDS.labels(outcome=outcome).observe(seconds / len(claims))


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
