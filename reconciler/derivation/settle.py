"""Settling a round: store what the derivers produced and record each activity's new state,
under the fence, in one place: the round's outcome (work.outcomes) by activity, released
by the kernel in one statement for the batch (work.leases.release_batch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.dateparse import parse_datetime

from activities import storage
from activities.models import Activity, Derived
from core import derivers, plan
from core.derivers import DeriveError, Deriver
from duplicates import flags as duplicate_flags
from reconciler.derivation import batched
from reconciler.derivation.kind import KIND
from reconciler.rollouts import state as rollout_state
from records import flags as record_flags
from segments import flags as segment_flags
from sharing import flags as sharing_flags
from training import flags as training_flags
from webhooks import events
from work import clock, leases
from work.leases import Lease
from work.models import Attempt
from work.outcomes import Done, Failed, Outcome, Retry, Wait

YIELDED = Attempt.Outcome.YIELDED


@dataclass(frozen=True)
class Output:
    deriver: Deriver
    status: str
    data: bytes | None
    error: DeriveError | None
    duration_ms: int
    digest: bytes | None = None  # of `data` (core.derivers.digest)


@dataclass
class Round:
    """What reconciling one activity produced: what is stored and what to run (read once),
    values for later derivers, outputs not yet stored, and the failures. `outdated`: the
    derivers in `todo` whose own output wants a rebuild (the others run only if an input
    changes); `same_bytes`: those that ran and gave the bytes already stored."""

    stored: dict[str, plan.Stored]
    todo: list[Deriver] = field(default_factory=list)
    outdated: set[str] = field(default_factory=set)
    same_bytes: set[str] = field(default_factory=set)
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

    @property
    def store_away(self) -> bool:
        """Every transient failure was the store of originals being away: a wait."""
        return bool(self.transient) and all(
            getattr(error, "code", None) == storage.Unavailable.code
            for error in self.transient.values())


def settle(leased: list[Lease], rounds: dict[int, Round], *,
           now: datetime | None = None) -> dict[int, str]:
    """Store the outputs and record every activity's new state: one writer, one
    transaction, under the fence. Returns the attempt's outcome by activity id."""
    now = now or clock.now()
    with transaction.atomic():
        alive = [lease for lease in leased if not rounds[lease.row_id].lost]
        held = leases.hold_many(KIND, alive, now=now) if alive else {}
        store({i: rounds[i] for i in held}, now=now)
        failures = _stored_failures({i for i in held if _has_failed(rounds[i])})
        activities = {a.id: a for a in Activity.objects.select_for_update().filter(id__in=held)}
        outcomes = [(lease, outcome(activities.get(lease.row_id), rounds[lease.row_id],
                                    failures.get(lease.row_id), now=now))
                    for lease in leased]
        # One statement for the batch, with only the fields settled (bulk_update would
        # build a CASE per row and field, an upsert would send every column).
        labels = leases.release_batch(KIND, outcomes, activities, now=now,
                                      columns=SETTLED_FIELDS)
        settled = list(activities.values())
        events.settled(settled, rounds, now=now)  # the outbox, in the same transaction
        # Their owners' records and training books are owed a rebuild, and their
        # duplicates check a run, in the same transaction (records.flags, training.flags,
        # duplicates.flags).
        record_flags.mark_settled(settled, rounds, now=now)
        training_flags.mark_settled(settled, rounds, now=now)
        duplicate_flags.mark_settled(settled, rounds, now=now)
        # And their new tracks are matched against their owners' segments (segments.flags).
        segment_flags.mark_settled(settled, rounds, now=now)
        # And shared ones are cut again for others to read (sharing.flags).
        sharing_flags.mark_settled(settled, rounds, now=now)
    return labels


#: The activity's own fields an outcome may carry (the kernel writes the lease's).
SETTLED_FIELDS = ("status", "processed_at", "error_code", "error_message", "start_time",
                  "sport")


def outcome(activity: Activity | None, result: Round, stored_failure: tuple[str, str] | None,
            *, now: datetime) -> Outcome:
    """What this round comes to for the activity (None: its lease was lost; the outcome
    then only names the attempt's failure, nothing is written).

    The claim counted this attempt (`attempts`), so a process death counts too; the
    kernel's policy (work.leases.released) settles the count from the outcome.
    1. Deleted meanwhile, or out of time with no failure: handed back (yielded).
    2. The store of originals away: a wait, not counted, however long it lasts.
    3. Any other transient failure: retried after backoff, dead at CAIRN_MAX_ATTEMPTS.
    4. Else a permanent failure (this round's, or stored at the current version): failed.
    5. Else ready. Either way it stays queued if it was re-synced while we worked.
    """
    code, message = result.first_failure()
    detail = {"derivers": list(result.ran)}
    if activity is not None and activity.deleted_at is not None:
        # The deletions' kind takes it next (reconciler.deletions.removal).
        return Wait(until=now, label=YIELDED, detail=detail)
    fields = {}
    if "summary" in result.values:  # listed by when it happened, not when uploaded
        summary = result.values["summary"]
        fields["start_time"] = parse_datetime(summary.get("start_time") or "")
        # The summary's, for the list's filter; the owner's choice is user_sport, never
        # written here.
        fields["sport"] = (summary.get("sport") or "")[:64]
    if result.out_of_time and not result.transient:
        return Wait(until=now, label=YIELDED, fields=fields, detail=detail)
    if result.store_away:
        # Not the file's fault: looked at again after the first backoff step, for as long
        # as the store is away (runbooks/object-store-unavailable.md).
        return Wait(until=now + timedelta(seconds=settings.CAIRN_BACKOFF_BASE_S),
                    reason=code, fields=fields | {"error_code": code, "error_message": message},
                    detail=detail)
    if result.transient:
        return Retry(code, message, fields=fields, detail=detail)
    if not code:
        code, message = stored_failure or ("", "")
    fields |= {"processed_at": now, "error_code": code, "error_message": message}
    if code:
        return Failed(code, message, fields=fields | {"status": Activity.Status.FAILED},
                      detail=detail)
    return Done(fields=fields | {"status": Activity.Status.READY}, detail=detail)


def store(rounds: dict[int, Round], *, now: datetime) -> None:
    """Store the outputs not yet stored (inside the caller's fenced transaction), never
    over a newer version (older code in a partial deploy)."""
    outputs = [(i, o) for i, r in rounds.items() for o in r.unstored]
    if not outputs:
        return
    # A rollout that may be rolled back keeps what is about to be overwritten (never a
    # newer output: the statement below leaves those alone), the same bytes too: a
    # rollback gives back the versions as well.
    rollout_state.keep([(i, o.deriver.name) for i, o in outputs])
    # One INSERT … ON CONFLICT DO UPDATE for new and rebuilt outputs alike; the same bytes
    # are not written again (the statement compares digests).
    batched.store_outputs([(i, o.deriver.name, o.deriver.version, o.status, o.data,
                            o.digest, o.error.code if o.error else "",
                            str(o.error) if o.error else "", o.duration_ms)
                           for i, o in outputs], now=now)
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
