"""Reconciling leased activities: bring their derived data up to the current versions.

Every trigger (nudge, sweep, inline fallback, command, admin) goes through
reconcile_batch; reconcile_one is a batch of one.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from activities import storage
from activities.models import Activity, Derived
from core import backoff, derivers, plan
from core.derivers import DeriveError, Deriver
from reconciler import clock, leases, metrics, workers
from reconciler.leases import Claim
from reconciler.models import Attempt
from reconciler.renewal import Renewal

log = structlog.get_logger(__name__)
Outcome = Attempt.Outcome

#: A deriver that ran this long has its output stored at once, so that a crash after it
#: never costs the work again; quicker outputs are stored with the activities' new state,
#: in one transaction for the whole batch.
STORE_AT_ONCE_S = 1.0

_SETTLED_FIELDS = ["lease_token", "lease_owner", "lease_expires_at", "attempts", "status",
                   "needs_work", "due_at", "processed_at", "pending_since", "error_code",
                   "error_message", "start_time"]


@dataclass(frozen=True)
class _Output:
    deriver: Deriver
    status: str
    data: bytes | None
    error: DeriveError | None
    duration_ms: int


@dataclass
class _Round:
    """What reconciling one activity produced: values for later derivers, outputs not yet
    stored, and the failures."""

    stored: dict[str, plan.Stored]
    values: dict[str, Any] = field(default_factory=dict)
    unstored: list[_Output] = field(default_factory=list)
    permanent: dict[str, DeriveError] = field(default_factory=dict)
    transient: dict[str, Exception] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    out_of_time: bool = False
    lost: bool = False


def reconcile_one(claim: Claim, *, trigger: str, deadline: float | None = None) -> str:
    """Converge one activity under `claim`; returns the Attempt outcome."""
    return reconcile_batch([claim], trigger=trigger, deadline=deadline)[claim.activity_id]


def reconcile_batch(claims: list[Claim], *, trigger: str,
                    deadline: float | None = None) -> dict[int, str]:
    """Converge leased activities; the Attempt outcome of each, by activity id.

    1. One query starts every attempt, one reads what is stored, one the inputs.
    2. Each activity is derived in turn, no transaction open, one thread renewing every
       lease; derivers whose output is current do not run. With a `deadline`
       (time.monotonic()), no deriver starts after it: the lease is handed back.
    3. One fenced transaction stores every output and records every new state; an
       activity whose lease is gone gets nothing written.
    """
    if not claims:
        return {}
    started = time.monotonic()
    claims = _start_attempts(claims, trigger=trigger)
    rounds = _observe(claims)
    with Renewal(claims) as renewal:
        for claim in claims:
            with structlog.contextvars.bound_contextvars(activity_id=claim.activity_id):
                _derive_all(claim, rounds[claim.activity_id], renewal, deadline=deadline)
    outcomes = _settle(claims, rounds)
    _finish(claims, rounds, outcomes, trigger=trigger, seconds=time.monotonic() - started)
    return outcomes


def _start_attempts(claims: list[Claim], *, trigger: str) -> list[Claim]:
    now = clock.now()
    versions = workers.code_versions()
    attempts = Attempt.objects.bulk_create([
        Attempt(activity_id=c.activity_id, trigger=trigger, worker=c.owner,
                lease_token=c.token, versions=versions, started_at=now,
                held_until=c.expires_at)
        for c in claims])
    metrics.CLAIMS.labels(trigger=trigger).inc(len(claims))
    return [dataclasses.replace(c, attempt_id=a.id, attempt_started=now)
            for c, a in zip(claims, attempts, strict=True)]


def _observe(claims: list[Claim]) -> dict[int, _Round]:
    """What is stored for each activity, and the stored inputs its derivers will read."""
    ids = [c.activity_id for c in claims]
    rounds = {i: _Round(stored={}) for i in ids}
    for row in Derived.objects.filter(activity_id__in=ids).only("activity_id", "deriver",
                                                                 "version", "status"):
        rounds[row.activity_id].stored[row.deriver] = plan.Stored(row.version, row.status)
    wanted: set[tuple[int, str]] = set()
    for activity_id, result in rounds.items():
        todo = plan.todo(result.stored, derivers.ALL)
        names = {d.name for d in todo}
        wanted |= {(activity_id, need) for d in todo for need in d.needs if need not in names}
    if wanted:
        rows = Derived.objects.filter(
            activity_id__in={i for i, _ in wanted}, deriver__in={n for _, n in wanted},
            data__isnull=False).values_list("activity_id", "deriver", "data")
        for activity_id, name, data in rows:
            if (activity_id, name) in wanted:
                rounds[activity_id].values[name] = derivers.BY_NAME[name].codec.loads(
                    bytes(data))
    return rounds


def _derive_all(claim: Claim, result: _Round, renewal: Renewal, *,
                deadline: float | None) -> None:
    for deriver in plan.todo(result.stored, derivers.ALL):
        if result.lost or claim.activity_id in renewal.lost:
            result.lost = True  # someone else holds it now: stop, throw everything away
            return
        if any(n in result.permanent or n in result.transient for n in deriver.needs):
            continue  # an input failed in this round: it is retried with it
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
            log.exception("derive.crashed", deriver=deriver.name, lease_token=claim.token)
            continue
        if time.monotonic() - started >= STORE_AT_ONCE_S:
            _store_at_once(claim, result)


def _derive(claim: Claim, deriver: Deriver, result: _Round) -> None:
    """Run one deriver; its value goes to later derivers, its bytes to be stored."""
    with metrics.DERIVE_SECONDS.labels(deriver=deriver.name).time():
        started = time.monotonic()
        value = deriver.derive(*_inputs(claim, deriver, result))
        data = deriver.codec.dumps(value)
        value = deriver.codec.loads(data)
    result.values[deriver.name] = value
    result.unstored.append(_Output(deriver, Derived.Status.READY, data, None,
                                   _ms_since(started)))


def _failed(deriver: Deriver, error: DeriveError, result: _Round, started: float) -> None:
    if not error.permanent:
        result.transient[deriver.name] = error
        log.warning("derive.failed", deriver=deriver.name, error_code=error.code,
                    permanent=False)
        return
    result.permanent[deriver.name] = error
    result.unstored.append(_Output(deriver, Derived.Status.FAILED, None, error,
                                   _ms_since(started)))
    log.info("derive.failed", deriver=deriver.name, error_code=error.code, permanent=True)


def _inputs(claim: Claim, deriver: Deriver, result: _Round) -> list[Any]:
    if not deriver.needs:
        # Only `track` reads the original; it is the one dear decode (DESIGN "Parse once").
        name = Activity.objects.values_list("file_name", flat=True).get(id=claim.activity_id)
        return [storage.read_original(name)]
    missing = [n for n in deriver.needs if n not in result.values]
    if missing:  # read by _observe; gone only if the stored output changed since
        raise RuntimeError(f"stored input {missing} of activity {claim.activity_id} is gone")
    return [result.values[n] for n in deriver.needs]


def _store_at_once(claim: Claim, result: _Round) -> None:
    with transaction.atomic():
        if claim.activity_id not in leases.hold_many([claim], now=clock.now()):
            result.lost = True
            return
        _store({claim.activity_id: result}, now=clock.now())


def _store(rounds: dict[int, _Round], *, now: datetime) -> None:
    """Store the outputs not yet stored (inside the caller's fenced transaction), never
    over a newer version (older code in a partial deploy)."""
    outputs = [(i, o) for i, r in rounds.items() for o in r.unstored]
    if not outputs:
        return
    newer = {(i, name) for i, name, version in Derived.objects.filter(
        activity_id__in=rounds, deriver__in={o.deriver.name for _, o in outputs}
    ).values_list("activity_id", "deriver", "version")
        if version > derivers.BY_NAME[name].version}
    rows = [Derived(activity_id=i, deriver=o.deriver.name, version=o.deriver.version,
                    status=o.status, data=o.data, error_code=o.error.code if o.error else "",
                    error_message=str(o.error) if o.error else "",
                    duration_ms=o.duration_ms, updated_at=now)
            for i, o in outputs if (i, o.deriver.name) not in newer]
    # One INSERT … ON CONFLICT DO UPDATE for new and rebuilt outputs alike.
    Derived.objects.bulk_create(rows, update_conflicts=True,
                                unique_fields=["activity", "deriver"],
                                update_fields=["version", "status", "data", "error_code",
                                               "error_message", "duration_ms", "updated_at"])
    for result in rounds.values():
        result.unstored.clear()


def _settle(claims: list[Claim], rounds: dict[int, _Round]) -> dict[int, str]:
    """Store the outputs and record every activity's new state: one writer, one
    transaction, under the fence."""
    now = clock.now()
    by_id = {c.activity_id: c for c in claims}
    with transaction.atomic():
        alive = [c for c in claims if not rounds[c.activity_id].lost]
        held = leases.hold_many(alive, now=now) if alive else set()
        outcomes = {i: Outcome.LEASE_LOST for i in by_id if i not in held}
        _store({i: rounds[i] for i in held}, now=now)
        failures = _stored_failures(held)
        activities = list(Activity.objects.select_for_update().filter(id__in=held))
        for activity in activities:
            result = rounds[activity.id]
            outcomes[activity.id] = _next_state(activity, by_id[activity.id], result,
                                                failures.get(activity.id), now=now)
            if "summary" in result.values:  # listed by when it happened, not when uploaded
                start = result.values["summary"].get("start_time")
                activity.start_time = parse_datetime(start or "")
        # The rows are whole in memory: an upsert on the key writes them in one statement
        # (bulk_update would build a CASE per row and field).
        Activity.objects.bulk_create(activities, update_conflicts=True, unique_fields=["id"],
                                     update_fields=_SETTLED_FIELDS)
    return outcomes


def _next_state(activity: Activity, claim: Claim, result: _Round,
                stored_failure: tuple[str, str] | None, *, now: datetime) -> str:
    """Set the activity's fields from this round's result; return the attempt's outcome.

    1. Any transient failure: retry after backoff, or dead after CAIRN_MAX_ATTEMPTS.
    2. Out of time: hand the lease back; the sweep goes on from here.
    3. Else a permanent failure (this round's, or stored at the current version): failed.
    4. Else ready. Either way it stays pending if it was re-synced while we worked.
    """
    activity.lease_token, activity.lease_owner, activity.lease_expires_at = None, "", None
    if result.out_of_time and not result.transient:
        activity.status, activity.due_at = Activity.Status.QUEUED, now
        return Outcome.YIELDED
    code, message = _first_failure(result)
    if not code:
        code, message = stored_failure or ("", "")
    activity.error_code, activity.error_message = code, message
    if result.transient:
        activity.attempts += 1
        if activity.attempts >= settings.CAIRN_MAX_ATTEMPTS:
            activity.status, activity.needs_work = Activity.Status.DEAD, False
            return Outcome.DEAD
        activity.status = Activity.Status.QUEUED
        activity.due_at = backoff.next_attempt_at(
            activity.attempts, now=now, base_s=settings.CAIRN_BACKOFF_BASE_S,
            cap_s=settings.CAIRN_BACKOFF_CAP_S)
        return Outcome.RETRYING
    activity.status = Activity.Status.FAILED if code else Activity.Status.READY
    activity.attempts = 0
    activity.processed_at = now
    if activity.generation == claim.generation:
        activity.needs_work, activity.pending_since = False, None
    else:
        # Re-synced while we worked: go round again for what was asked meanwhile.
        activity.status, activity.due_at = Activity.Status.QUEUED, now
    return Outcome.FAILED if code else Outcome.CONVERGED


def _finish(claims: list[Claim], rounds: dict[int, _Round], outcomes: dict[int, str], *,
            trigger: str, seconds: float) -> None:
    """Close every attempt in one statement, count and log each."""
    ended = clock.now()
    attempts = []
    for claim in claims:
        result, outcome = rounds[claim.activity_id], outcomes[claim.activity_id]
        code, message = _first_failure(result)
        attempts.append(Attempt(
            id=claim.attempt_id, activity_id=claim.activity_id, trigger=trigger,
            worker=claim.owner, lease_token=claim.token, versions={},
            started_at=claim.attempt_started, held_until=claim.expires_at, outcome=outcome,
            ended_at=ended, derivers_run=result.ran, error_code=code, error_message=message))
        metrics.ATTEMPTS.labels(trigger=trigger, outcome=outcome).inc()
        if outcome == Outcome.LEASE_LOST:
            log.warning("lease.lost", activity_id=claim.activity_id, lease_token=claim.token)
        log.info("reconcile.finished", activity_id=claim.activity_id, outcome=outcome,
                 derivers=result.ran, error_code=code or None, lease_token=claim.token,
                 worker=claim.owner, trigger=trigger,
                 ms=round(seconds * 1000 / len(claims), 1))
    # An upsert on the key: only these columns change (held_until stays as renewed).
    Attempt.objects.bulk_create(attempts, update_conflicts=True, unique_fields=["id"],
                                update_fields=["outcome", "ended_at", "derivers_run",
                                               "error_code", "error_message"])
    for claim in claims:
        metrics.RECONCILE_SECONDS.labels(outcome=outcomes[claim.activity_id]).observe(
            seconds / len(claims))


def _first_failure(result: _Round) -> tuple[str, str]:
    for name, error in {**result.permanent, **result.transient}.items():
        code = getattr(error, "code", None) or type(error).__name__
        message = str(error) if isinstance(error, DeriveError) else (
            f"The {name} step failed unexpectedly ({type(error).__name__}); it will be retried.")
        return code, message
    return "", ""


def _stored_failures(ids: set[int]) -> dict[int, tuple[str, str]]:
    """Permanent failures stored by earlier rounds at the current version, the first in
    dependency order, by activity."""
    order = {d.name: index for index, d in enumerate(derivers.ALL)}
    found: dict[int, tuple[int, str, str]] = {}
    rows = Derived.objects.filter(activity_id__in=ids, status=Derived.Status.FAILED).only(
        "activity_id", "deriver", "version", "error_code", "error_message")
    for row in rows:
        deriver = derivers.BY_NAME.get(row.deriver)
        if deriver is None or row.version < deriver.version:
            continue
        rank = order[row.deriver]
        if row.activity_id not in found or rank < found[row.activity_id][0]:
            found[row.activity_id] = (rank, row.error_code, row.error_message)
    return {i: (code, message) for i, (_, code, message) in found.items()}


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
