"""Users' record books as a kind of reconciled work (work.kinds): its claim statements
and its spec. The work itself is records.rebuild.run; books behind the code are flagged
before the claim (records.outdated, by the sweep)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from records import outdated, rebuild
from records.models import Book
from work import userbooks

#: Claimed through work.userbooks: due books by the partial index book_pending, orphans by
#: book_leased, one book by id; books newer than this code builds are left to newer
#: workers (a partial deploy).
KIND = userbooks.register(
    name="book", key="records", label="record books", model=Book, table="records_book",
    version=lambda: rebuild.VERSION, run=rebuild.run, doing="building these records")


def flag(*, now: datetime) -> int:
    """Flag a bounded batch of books behind this code (and create missing ones): the
    sweep's step before it claims books. Returns how many."""
    return outdated.flag(now=now, batch=settings.CAIRN_ROLLOUT_BATCH, version=rebuild.VERSION)


def sweep(*, now: datetime, owner: str, limit: int | None = None) -> int:
    """Flag books behind, then lease due books and build each (tests, the benchmark);
    returns how many were flagged or leased."""
    return userbooks.sweep(KIND, flag, now=now, owner=owner, limit=limit)
