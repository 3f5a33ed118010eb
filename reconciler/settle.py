"""Settling a round: store what the derivers produced and record each activity's new state,
under the fence, in one place (the one writer of an activity's reconcile fields)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from activities.models import Activity, Derived
from core import backoff, derivers, plan
from core.derivers import DeriveError, Deriver
from reconciler import batched, leases, rollout_state
from reconciler.leases import Claim
from reconciler.models import Attempt
from records import flags as record_flags
from webhooks import events
from work import clock

Outcome = Attempt.Outcome


@dataclass(frozen=True)
class Output:
    deriver: Deriver
    status: str
    data: bytes | None
    error: DeriveError | None
    duration_ms: int


@dataclass
class Round:
    """What reconciling one activity produced: what is stored and what to run (read once),
    values for later derivers, outputs not yet stored, and the failures."""

    stored: dict[str, plan.Stored]
    todo: list[Deriver] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    unstored: list[Output] = field(default_factory=list)
    permanent: dict[str, DeriveError] = field(default_factory=dict)
    transient: dict[str, Exception] = field(default_factory=dict)
    ran: list[str] = field(default_factory=list)
    out_of_time: bool = False
    lost: bool = False

    def first_failure(self) -> tuple[str, str]:
        """The reason code and sentence of the round's first failure, or ("", "")."""
        for name, error in {**self.permanent, **self.transient}.items():
            code = getattr(error, "code", None) or type(error).__name__
            message = str(error) if isinstance(error, DeriveError) else (
                f"The {name} step failed unexpectedly ({type(error).__name__}); it will be "
                "retried.")
            return code, message
        return "", ""


def settle(claims: list[Claim], rounds: dict[int, Round], *,
           now: datetime | None = None) -> dict[int, str]:
    """Store the outputs and record every activity's new state: one writer, one
    transaction, under the fence. Returns the Attempt outcome by activity id."""
    now = now or clock.now()
    by_id = {c.activity_id: c for c in claims}
    with transaction.atomic():
        alive = [c for c in claims if not rounds[c.activity_id].lost]
        held = leases.hold_many(alive, now=now) if alive else set()
        outcomes = {i: Outcome.LEASE_LOST for i in by_id if i not in held}
        store({i: rounds[i] for i in held}, now=now)
        failures = _stored_failures({i for i in held if _has_failed(rounds[i])})
        activities = list(Activity.objects.select_for_update().filter(id__in=held))
        for activity in activities:
            outcomes[activity.id] = next_state(activity, by_id[activity.id],
                                               rounds[activity.id],
                                               failures.get(activity.id), now=now)
        # One statement for the batch, with only the fields settled (bulk_update would
        # build a CASE per row and field, an upsert would send every column).
        batched.update_by_id(Activity, activities, SETTLED_FIELDS)
        events.settled(activities, rounds, now=now)  # the outbox, in the same transaction
        # Their owners' records are owed a rebuild in the same transaction (records.flags).
        record_flags.mark_settled(activities, rounds, now=now)
    return outcomes


#: Every field next_state (and nothing else) writes when a round settles.
SETTLED_FIELDS = ["lease_token", "lease_owner", "lease_expires_at", "attempts", "status",
                  "needs_work", "due_at", "processed_at", "pending_since", "error_code",
                  "error_message", "start_time", "sport"]


def next_state(activity: Activity, claim: Claim, result: Round,
               stored_failure: tuple[str, str] | None, *, now: datetime) -> str:
    """Set the activity's fields from this round's result; return the attempt's outcome.

    The claim counted this attempt (`attempts`), so a process death counts too; here the
    count is settled.
    1. Out of time with no failure: hand the lease (and the attempt) back.
    2. Any transient failure: the count stands; retry after backoff, or dead once it
       reaches CAIRN_MAX_ATTEMPTS.
    3. Else a permanent failure (this round's, or stored at the current version): failed.
    4. Else ready. Either way the count restarts, and it stays pending if it was
       re-synced while we worked.
    """
    activity.lease_token, activity.lease_owner, activity.lease_expires_at = None, "", None
    if activity.deleted_at is not None:
        # Deleted while we worked: the deletion sweep takes it next (reconciler.deletion).
        activity.needs_work, activity.due_at, activity.attempts = True, now, 0
        return Outcome.YIELDED
    if "summary" in result.values:  # listed by when it happened, not when uploaded
        summary = result.values["summary"]
        activity.start_time = parse_datetime(summary.get("start_time") or "")
        # The summary's, for the list's filter; the owner's choice is user_sport, never
        # written here.
        activity.sport = (summary.get("sport") or "")[:64]
    if result.out_of_time and not result.transient:
        activity.status, activity.due_at = Activity.Status.QUEUED, now
        activity.attempts = max(activity.attempts - 1, 0)
        return Outcome.YIELDED
    code, message = result.first_failure()
    if not code:
        code, message = stored_failure or ("", "")
    activity.error_code, activity.error_message = code, message
    if result.transient:
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


def store(rounds: dict[int, Round], *, now: datetime) -> None:
    """Store the outputs not yet stored (inside the caller's fenced transaction), never
    over a newer version (older code in a partial deploy)."""
    outputs = [(i, o) for i, r in rounds.items() for o in r.unstored]
    if not outputs:
        return
    # A rollout that may be rolled back keeps what is about to be overwritten (never a
    # newer output: the statement below leaves those alone).
    rollout_state.keep([(i, o.deriver.name) for i, o in outputs])
    # One INSERT … ON CONFLICT DO UPDATE for new and rebuilt outputs alike.
    batched.store_outputs([(i, o.deriver.name, o.deriver.version, o.status, o.data,
                            o.error.code if o.error else "", str(o.error) if o.error else "",
                            o.duration_ms) for i, o in outputs], now=now)
    for result in rounds.values():
        result.unstored.clear()


def _has_failed(result: Round) -> bool:
    """Whether an earlier round stored a permanent failure for the activity (read before
    this round, under the lease: nobody else writes its outputs meanwhile)."""
    return any(stored.status == Derived.Status.FAILED for stored in result.stored.values())


def _stored_failures(ids: set[int]) -> dict[int, tuple[str, str]]:
    """Permanent failures stored by earlier rounds at the current version, the first in
    dependency order, by activity."""
    if not ids:
        return {}
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
