"""reconcile_one: bring one leased activity's derived data up to the current versions.

Every trigger (nudge, sweep, inline fallback, command, admin) goes through here.
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
from reconciler.leases import Claim, LeaseLost
from reconciler.models import Attempt
from reconciler.renewal import Renewal

log = structlog.get_logger(__name__)
Outcome = Attempt.Outcome


#: A deriver that ran this long has its output stored at once, so that a crash after it
#: never costs the work again; quicker outputs are stored with the activity's new state,
#: in one transaction.
STORE_AT_ONCE_S = 1.0


@dataclass(frozen=True)
class _Output:
    deriver: Deriver
    status: str
    data: bytes | None
    error: DeriveError | None
    duration_ms: int


@dataclass
class _Round:
    """What one reconcile produced: values for later derivers, outputs not yet stored,
    and the failures."""

    values: dict[str, Any] = field(default_factory=dict)
    unstored: list[_Output] = field(default_factory=list)
    permanent: dict[str, DeriveError] = field(default_factory=dict)
    transient: dict[str, Exception] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    out_of_time: bool = False


def reconcile_one(claim: Claim, *, trigger: str, deadline: float | None = None) -> str:
    """Converge one activity under `claim`; returns the Attempt outcome.

    Idempotent: derivers whose output is current are not run, and an activity that
    needs nothing is only marked clean. With a `deadline` (time.monotonic()), no deriver
    starts after it: the lease is handed back and the sweep does the rest.
    """
    # Every log line from here on, ours or a library's, names the activity.
    with structlog.contextvars.bound_contextvars(activity_id=claim.activity_id):
        return _reconcile(claim, trigger=trigger, deadline=deadline)


def _reconcile(claim: Claim, *, trigger: str, deadline: float | None) -> str:
    bound = log.bind(lease_token=claim.token, worker=claim.owner, trigger=trigger)
    started = time.monotonic()
    metrics.CLAIMS.labels(trigger=trigger).inc()
    attempt = Attempt.objects.create(
        activity_id=claim.activity_id, trigger=trigger, worker=claim.owner,
        lease_token=claim.token, versions=workers.code_versions(),
        started_at=clock.now(), held_until=claim.expires_at,
    )
    claim = dataclasses.replace(claim, attempt_id=attempt.id)
    result = _Round()
    try:
        _derive_all(claim, result, bound, deadline=deadline)
        outcome = _settle(claim, result)
    except LeaseLost:
        outcome = Outcome.LEASE_LOST
        bound.warning("lease.lost")
    failure = _first_failure(result)
    Attempt.objects.filter(id=attempt.id).update(
        outcome=outcome, ended_at=clock.now(), derivers_run=result.ran,
        error_code=failure[0], error_message=failure[1])
    seconds = time.monotonic() - started
    metrics.ATTEMPTS.labels(trigger=trigger, outcome=outcome).inc()
    metrics.RECONCILE_SECONDS.labels(outcome=outcome).observe(seconds)
    bound.info("reconcile.finished", outcome=outcome, derivers=result.ran,
               error_code=failure[0] or None, ms=round(seconds * 1000, 1))
    return outcome


def _derive_all(claim: Claim, result: _Round, bound: structlog.BoundLogger, *,
                deadline: float | None) -> None:
    stored = {
        row.deriver: plan.Stored(version=row.version, status=row.status)
        for row in Derived.objects.filter(activity_id=claim.activity_id)
                                  .only("deriver", "version", "status")
    }
    for deriver in plan.todo(stored, derivers.ALL):
        if any(n in result.permanent or n in result.transient for n in deriver.needs):
            continue  # an input failed in this round: it is retried with it
        if deadline is not None and time.monotonic() > deadline:
            result.out_of_time = True
            return
        result.ran.append(deriver.name)
        started = time.monotonic()
        try:
            value, data = _derive(claim, deriver, result)
        except DeriveError as error:
            if not error.permanent:
                result.transient[deriver.name] = error
                bound.warning("derive.failed", deriver=deriver.name, error_code=error.code,
                              permanent=False)
                continue
            result.permanent[deriver.name] = error
            result.unstored.append(_Output(deriver, Derived.Status.FAILED, None, error,
                                           _ms_since(started)))
            bound.info("derive.failed", deriver=deriver.name, error_code=error.code,
                       permanent=True)
            continue
        except LeaseLost:
            raise
        except Exception as error:  # a bug or an outage: transient, retried with backoff
            result.transient[deriver.name] = error
            bound.exception("derive.crashed", deriver=deriver.name)
            continue
        result.values[deriver.name] = value
        result.unstored.append(_Output(deriver, Derived.Status.READY, data, None,
                                       _ms_since(started)))
        if time.monotonic() - started >= STORE_AT_ONCE_S:
            with transaction.atomic():
                _store(claim, result, now=clock.now())


def _derive(claim: Claim, deriver: Deriver, result: _Round) -> tuple[Any, bytes]:
    """Run one deriver with no transaction open, renewing the lease meanwhile."""
    inputs = _inputs(claim, deriver, result)
    with Renewal(claim) as renewal, metrics.DERIVE_SECONDS.labels(deriver=deriver.name).time():
        value = deriver.derive(*inputs)
        data = deriver.codec.dumps(value)
    if renewal.lost.is_set():
        raise LeaseLost(f"lease {claim.token} on activity {claim.activity_id} is gone")
    return value, data


def _inputs(claim: Claim, deriver: Deriver, result: _Round) -> list[Any]:
    if not deriver.needs:
        # Only `track` reads the original; it is the one dear decode (DESIGN "Parse once").
        name = Activity.objects.values_list("file_name", flat=True).get(id=claim.activity_id)
        return [storage.read_original(name)]
    inputs = []
    for need in deriver.needs:
        if need not in result.values:
            data = Derived.objects.values_list("data", flat=True).get(
                activity_id=claim.activity_id, deriver=need)
            result.values[need] = derivers.BY_NAME[need].codec.loads(bytes(data))
        inputs.append(result.values[need])
    return inputs


def _store(claim: Claim, result: _Round, *, now: datetime) -> None:
    """Store the outputs not yet stored, inside the caller's transaction, only while the
    lease holds, and never over a newer version (older code in a partial deploy)."""
    leases.hold(claim, now=now)
    if not result.unstored:
        return
    existing = {row.deriver: row for row in Derived.objects.filter(
        activity_id=claim.activity_id, deriver__in=[o.deriver.name for o in result.unstored]
    ).only("id", "deriver", "version")}
    changed, created = [], []
    for output in result.unstored:
        row = existing.get(output.deriver.name)
        if row is not None and row.version > output.deriver.version:
            continue
        row = row or Derived(activity_id=claim.activity_id, deriver=output.deriver.name)
        row.version, row.status, row.data = output.deriver.version, output.status, output.data
        row.error_code = output.error.code if output.error else ""
        row.error_message = str(output.error) if output.error else ""
        row.duration_ms, row.updated_at = output.duration_ms, now
        (changed if row.pk else created).append(row)
    Derived.objects.bulk_update(changed, ["version", "status", "data", "error_code",
                                          "error_message", "duration_ms", "updated_at"])
    Derived.objects.bulk_create(created)
    result.unstored.clear()


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _settle(claim: Claim, result: _Round) -> str:
    """Store the outputs and record the activity's state after this round: one writer,
    one transaction, under the fence."""
    now = clock.now()
    with transaction.atomic():
        _store(claim, result, now=now)  # checks and renews the lease first
        activity = Activity.objects.select_for_update().get(id=claim.activity_id)
        outcome = _next_state(activity, claim, result, now=now)
        if "summary" in result.values:  # listed by when it happened, not when uploaded
            activity.start_time = parse_datetime(result.values["summary"]["start_time"] or "")
        activity.save(update_fields=[
            "lease_token", "lease_owner", "lease_expires_at", "attempts", "status",
            "needs_work", "due_at", "processed_at", "pending_since", "error_code",
            "error_message", "start_time"])
    return outcome


def _next_state(activity: Activity, claim: Claim, result: _Round, *, now: datetime) -> str:
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
        code, message = _stored_failure(claim) or ("", "")
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


def _first_failure(result: _Round) -> tuple[str, str]:
    for name, error in {**result.permanent, **result.transient}.items():
        code = getattr(error, "code", None) or type(error).__name__
        message = str(error) if isinstance(error, DeriveError) else (
            f"The {name} step failed unexpectedly ({type(error).__name__}); it will be retried.")
        return code, message
    return "", ""


def _stored_failure(claim: Claim) -> tuple[str, str] | None:
    """A permanent failure stored by an earlier round at the current version, first in
    dependency order."""
    rows = Derived.objects.filter(activity_id=claim.activity_id, status=Derived.Status.FAILED)
    failed = {r.deriver: r for r in rows.only("deriver", "version", "error_code",
                                               "error_message")}
    for deriver in derivers.ALL:
        row = failed.get(deriver.name)
        if row is not None and row.version >= deriver.version:
            return row.error_code, row.error_message
    return None
