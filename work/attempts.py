"""The one attempt log: every lease taken opens a row, every release (or the discovery
that its holder died) closes it."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import F

from work import batched
from work.models import Attempt

if TYPE_CHECKING:
    from work.leases import Lease


def start(leases: list[Lease], *, trigger: str, now: datetime,
          versions: dict | None = None) -> list[Lease]:
    """Open one attempt per lease (one statement); the leases, each with its attempt."""
    if not leases:
        return []
    ids = batched.insert(Attempt, [
        Attempt(kind=lease.kind, row_id=lease.row_id, trigger=trigger, worker=lease.owner,
                lease_token=lease.token, versions=versions or {}, started_at=now,
                held_until=lease.expires_at)
        for lease in leases])
    return [dataclasses.replace(lease, attempt_id=row_id, started_at=now)
            for lease, row_id in zip(leases, ids, strict=True)]


def end(lease: Lease, outcome: str, *, now: datetime, code: str = "", message: str = "",
        detail: dict | None = None) -> None:
    if lease.attempt_id is None:
        return
    Attempt.objects.filter(id=lease.attempt_id).update(
        outcome=outcome, ended_at=now, error_code=code, error_message=message,
        detail=detail or {})


def end_many(ended: list[tuple[Lease, str, str, str, dict]], *, now: datetime) -> None:
    """End a batch's attempts in one statement: (lease, outcome, code, message, detail)
    each; `held_until` stays as last renewed."""
    batched.update_by_id(Attempt, [
        Attempt(id=lease.attempt_id, outcome=outcome, ended_at=now, error_code=code,
                error_message=message, detail=detail)
        for lease, outcome, code, message, detail in ended if lease.attempt_id is not None],
        ["outcome", "ended_at", "detail", "error_code", "error_message"])


def forget(lease: Lease) -> None:
    """A lease handed back untried leaves no attempt."""
    if lease.attempt_id is not None:
        Attempt.objects.filter(id=lease.attempt_id).delete()


def close_died(kind: str, row_ids: list[int]) -> None:
    """The holders of these rows' open attempts stopped before releasing: their lease ran
    out, and their attempt ends there. A holder that comes back late overwrites this with
    lease_lost when it tries to release."""
    Attempt.objects.filter(kind=kind, row_id__in=row_ids, ended_at=None).update(
        outcome=Attempt.Outcome.WORKER_DIED, ended_at=F("held_until"), error_code="WorkerDied",
        error_message="The worker stopped before finishing: its lease ran out.")


def of(kind: str, row_id: int):
    """One row's attempts, oldest first (its timeline)."""
    return Attempt.objects.filter(kind=kind, row_id=row_id).order_by("started_at", "id")
