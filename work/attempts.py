"""The one attempt log: every lease taken opens a row, every release (or the discovery
that its holder died) closes it."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import F

from work.models import Attempt

if TYPE_CHECKING:
    from work.leases import Lease


def start(leases: list[Lease], *, trigger: str, now: datetime,
          versions: dict | None = None) -> list[Lease]:
    """Open one attempt per lease (one statement); the leases, each with its attempt."""
    if not leases:
        return []
    rows = Attempt.objects.bulk_create([
        Attempt(kind=lease.kind, row_id=lease.row_id, trigger=trigger, worker=lease.owner,
                lease_token=lease.token, versions=versions or {}, started_at=now,
                held_until=lease.expires_at)
        for lease in leases])
    return [dataclasses.replace(lease, attempt_id=row.id, started_at=now)
            for lease, row in zip(leases, rows, strict=True)]


def end(lease: Lease, outcome: str, *, now: datetime, code: str = "", message: str = "",
        detail: dict | None = None) -> None:
    if lease.attempt_id is None:
        return
    Attempt.objects.filter(id=lease.attempt_id).update(
        outcome=outcome, ended_at=now, error_code=code, error_message=message,
        detail=detail or {})


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
