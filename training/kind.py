"""Users' training books as a kind of reconciled work (work.kinds): its claim statements
and its spec. The work itself is training.rebuild.run; books behind the code are flagged
before the claim (training.outdated, by the sweep)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from training import outdated, rebuild
from training.models import Book
from work import userbooks
from work.leases import Lease
from work.outcomes import Outcome


def _run(lease: Lease) -> Outcome:
    return rebuild.run(KIND, lease)


#: Claimed through work.userbooks: due books by the partial index training_pending,
#: orphans by training_leased, one book by id; books newer than this code builds are left
#: to newer workers (a partial deploy).
KIND = userbooks.register(
    name="training", key="training", label="training books", model=Book,
    table="training_book", version=lambda: rebuild.VERSION, run=_run,
    doing="building this training book")


def flag(*, now: datetime) -> int:
    """Flag a bounded batch of books behind this code (and create missing ones): the
    sweep's step before it claims books. Returns how many."""
    return outdated.flag(now=now, batch=settings.CAIRN_ROLLOUT_BATCH, version=rebuild.VERSION)


def sweep(*, now: datetime, owner: str, limit: int | None = None) -> int:
    """Flag books behind, then lease due books and build each (tests); returns how many
    were flagged or leased."""
    return userbooks.sweep(KIND, flag, now=now, owner=owner, limit=limit)
