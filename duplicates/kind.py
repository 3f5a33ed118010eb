"""Users' duplicates checks as a kind of reconciled work (work.kinds): the per-user book
plumbing (work.userbooks), the work itself in duplicates.check."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from duplicates import check, outdated
from duplicates.models import Check
from work import userbooks
from work.leases import Lease
from work.outcomes import Outcome


def _run(lease: Lease) -> Outcome:
    return check.run(KIND, lease)


KIND = userbooks.register(
    name="duplicates", key="duplicates", label="duplicates checks", model=Check,
    table="duplicates_check", version=lambda: check.VERSION, run=_run,
    doing="looking for duplicates")


def flag(*, now: datetime) -> int:
    """Flag a bounded batch of checks behind this code (and create missing ones)."""
    return outdated.flag(now=now, batch=settings.CAIRN_ROLLOUT_BATCH, version=check.VERSION)


def sweep(*, now: datetime, owner: str, limit: int | None = None) -> int:
    return userbooks.sweep(KIND, flag, now=now, owner=owner, limit=limit)
