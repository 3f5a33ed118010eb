"""Users' duplicates checks as a kind of reconciled work (work.kinds): the per-user book
plumbing (work.userbooks), the work itself in duplicates.check."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from duplicates import check, outdated
from duplicates.models import Check
from work import kinds, leases, run, userbooks
from work.leases import Lease
from work.models import Attempt
from work.outcomes import Outcome

STATEMENTS = userbooks.statements("duplicates_check", "duplicates_version")


def _error(code: str, message: str) -> dict:
    return {"error_code": code, "error_message": message}


def _dead(now: datetime) -> dict:
    return {"status": Check.Status.DEAD}


def _run(lease: Lease) -> Outcome:
    return check.run(KIND, lease)


KIND = kinds.register(kinds.Kind(
    name="duplicates",
    label="duplicates checks",
    model=Check,
    statements=STATEMENTS,
    doing="looking for duplicates",
    max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    dead_fields=_dead,
    run=_run,
    batch=lambda: settings.CAIRN_RECORDS_BATCH,
    params=lambda: {"duplicates_version": check.VERSION},
    versions=lambda: {"duplicates": check.VERSION},
    runbook="rebuilding-records.md",
))


def flag(*, now: datetime) -> int:
    """Flag a bounded batch of checks behind this code (and create missing ones)."""
    return outdated.flag(now=now, batch=settings.CAIRN_ROLLOUT_BATCH, version=check.VERSION)


def sweep(*, now: datetime, owner: str, limit: int | None = None) -> int:
    flagged = flag(now=now)
    taken = leases.claim(KIND, limit=limit or KIND.batch(), now=now, owner=owner,
                         trigger=Attempt.Trigger.SWEEP)
    run.run(KIND, taken)
    return flagged + len(taken)
