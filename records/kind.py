"""Users' record books as a kind of reconciled work (work.kinds): its claim statements
and its spec. The work itself is records.rebuild.run; books behind the code are flagged
before the claim (records.outdated, by the sweep)."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from records import outdated, rebuild
from records.models import Book
from work import kinds, leases, run, userbooks
from work.models import Attempt

#: The claim statements (work.userbooks): due books by the partial index book_pending,
#: orphans by book_leased, one book by id; books newer than this code builds are left to
#: newer workers (a partial deploy).
STATEMENTS = userbooks.statements("records_book", "records_version")


def _error(code: str, message: str) -> dict:
    return {"error_code": code, "error_message": message}


def _dead(now: datetime) -> dict:
    # Shown as given up on, with why (records.serialize.why); a re-sync revives it.
    return {"status": Book.Status.DEAD}


KIND = kinds.register(kinds.Kind(
    name="book",
    label="record books",
    model=Book,
    statements=STATEMENTS,
    doing="building these records",
    max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
    error_fields=_error,
    dead_fields=_dead,
    run=rebuild.run,
    batch=lambda: settings.CAIRN_RECORDS_BATCH,
    params=lambda: {"records_version": rebuild.VERSION},
    versions=lambda: {"records": rebuild.VERSION},
    runbook="rebuilding-records.md",
))


def flag(*, now: datetime) -> int:
    """Flag a bounded batch of books behind this code (and create missing ones): the
    sweep's step before it claims books. Returns how many."""
    return outdated.flag(now=now, batch=settings.CAIRN_ROLLOUT_BATCH, version=rebuild.VERSION)


def sweep(*, now: datetime, owner: str, limit: int | None = None) -> int:
    """Flag books behind, then lease due books and build each (tests, the benchmark);
    returns how many were flagged or leased."""
    flagged = flag(now=now)
    taken = leases.claim(KIND, limit=limit or KIND.batch(), now=now, owner=owner,
                         trigger=Attempt.Trigger.SWEEP)
    run.run(KIND, taken)
    return flagged + len(taken)
