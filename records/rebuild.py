"""Building users' books under a lease: claim due books, build each (merged when only
activities were added, else whole), and settle the result under the fence.

The same machinery as activities (reconciler.leases): attempts counted when the lease is
taken, orphans taken over first and given up on after CAIRN_MAX_ATTEMPTS, transient
failures retried after backoff, a result written only while its lease holds.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F

from core import backoff, heatmap, records
from reconciler import clock, expired, leases, metrics
from records import inputs, outdated
from records.models import Book, BookAttempt

log = structlog.get_logger(__name__)

#: The version of what a book holds; bump it with any change to core.records,
#: core.heatmap or records.inputs that changes a book, and every book is rebuilt whole.
#: 1: records, totals and heatmap.
#: 2: the heatmap in regions (core.heatmap.Heat).
#: 3: totals by the activity's local date; undated activities by their upload's (counted).
VERSION = 3

#: Books newer than this code builds are left to newer workers (a partial deploy).
_NOT_NEWER = "a.version <= %(records_version)s"


@dataclass(frozen=True, kw_only=True)
class BookClaim:
    book_id: int
    user_id: int
    token: str
    owner: str
    generation: int
    attempt_id: int


@dataclass(frozen=True)
class Built:
    book: records.Book
    grid: heatmap.Grid | None
    mode: str  # "merged" or "whole"
    read: int  # activities whose outputs were read


def sweep(*, now: datetime, owner: str, limit: int | None = None) -> int:
    """One round's share: flag books behind this code (a bounded batch), then claim due
    books and build each. Returns how many were leased or flagged."""
    flagged = outdated.flag(now=now, batch=settings.CAIRN_ROLLOUT_BATCH, version=VERSION)
    claims = claim(limit=limit or settings.CAIRN_RECORDS_BATCH, now=now, owner=owner)
    for taken in claims:
        rebuild(taken)
    return len(claims) + flagged


def claim(*, limit: int, now: datetime, owner: str) -> list[BookClaim]:
    """Lease due books: one orphan alone first (as reconciler.leases.claim), else up to
    `limit`, fresh before backfill. Each lease opens a BookAttempt."""
    expired.bury(Book, now=now)
    params = {"records_version": VERSION}
    found = leases.lease(Book, limit=1, now=now, owner=owner, params=params,
                         condition=f"a.lease_token IS NOT NULL AND {_NOT_NEWER}")
    if found:
        _close_open_attempts([found[0].row_id], now=now)
        metrics.EXPIRED_LEASES.labels(outcome="reclaimed").inc()
    else:
        found = leases.lease(Book, limit=limit, now=now, owner=owner, params=params,
                             condition=f"a.lease_token IS NULL AND {_NOT_NEWER}")
    if not found:
        return []
    users = dict(Book.objects.filter(id__in=[f.row_id for f in found])
                 .values_list("id", "user_id"))
    attempts = BookAttempt.objects.bulk_create([
        BookAttempt(book_id=f.row_id, worker=owner, lease_token=f.token, started_at=now)
        for f in found])
    return [BookClaim(book_id=f.row_id, user_id=users[f.row_id], token=f.token, owner=owner,
                      generation=f.generation, attempt_id=a.id)
            for f, a in zip(found, attempts, strict=True)]


def rebuild(claim: BookClaim) -> str:
    """Build one claimed book and settle it; returns the attempt's outcome."""
    started = time.monotonic()
    bound = log.bind(user_id=claim.user_id, book_id=claim.book_id, lease_token=claim.token)
    try:
        built = build(claim.user_id)
    except Exception as error:  # the database, a bug: retried after backoff, then dead
        bound.exception("records.build_failed", error=f"{type(error).__name__}: {error}")
        return _failed(claim, error, started=started)
    outcome = settle(claim, built, started=started)
    bound.info("records.built", outcome=outcome, mode=built.mode, activities_read=built.read,
               ms=round((time.monotonic() - started) * 1000))
    return outcome


def build(user_id: int) -> Built:
    """What the user's book should hold now, merged into the stored one when the change
    is only added activities (and their routes fit its heatmap's frame), else whole."""
    wanted, shown = inputs.wanted(user_id)
    stored = (Book.objects.filter(user_id=user_id).values("version", "data", "heat", "whole")
              .first())
    if (stored and stored["version"] == VERSION and stored["data"] is not None
            and not stored["whole"]):
        book = records.Book.from_json(stored["data"])
        if records.is_addition(book, wanted):
            added = sorted(int(k) for k in wanted.keys() - book.included.keys())
            grid = heatmap.Grid.loads(bytes(stored["heat"])) if stored["heat"] else None
            paths = []
            for fact, segments in inputs.facts(added, shown, wanted):
                records.add(book, fact)
                paths.extend(segments)
            if (grid is not None and all(heatmap.fits(grid, p) for p in paths)) or not paths:
                for path in paths:
                    heatmap.add(grid, path)
                return Built(book=book, grid=grid, mode="merged", read=len(added))
    book, paths = records.Book(), []
    ids = sorted(int(k) for k in wanted)
    for fact, segments in inputs.facts(ids, shown, wanted):
        records.add(book, fact)
        paths.extend(segments)
    return Built(book=book, grid=heatmap.build(paths), mode="whole", read=len(ids))


def settle(claim: BookClaim, built: Built, *, started: float) -> str:
    """Write the book under the fence, in one transaction; a lost lease writes nothing.
    It stays pending when its inputs changed while it was built (a new generation)."""
    now = clock.now()
    with transaction.atomic():
        if not leases.fence(Book, [claim.book_id], claim.token, now=now):
            outcome = "lease_lost"
        else:
            changed = Book.objects.filter(id=claim.book_id).exclude(
                generation=claim.generation).exists()
            Book.objects.filter(id=claim.book_id).update(
                data=built.book.as_json(), heat=built.grid.dumps() if built.grid else None,
                heatmap_png=heatmap.png(built.grid), version=VERSION,
                status=Book.Status.READY, built_at=now, error_code="", error_message="",
                attempts=0, lease_token=None, lease_owner="", lease_expires_at=None,
                needs_work=changed, due_at=now, whole=F("whole") if changed else False,
                pending_since=F("pending_since") if changed else None)
            outcome = "converged"
        _end_attempt(claim, outcome, now=now, mode=built.mode, read=built.read,
                     started=started)
    if outcome == "lease_lost":
        log.warning("records.lease_lost", user_id=claim.user_id, lease_token=claim.token)
    return outcome


def _failed(claim: BookClaim, error: Exception, *, started: float) -> str:
    """A transient failure: retry after backoff, dead once the attempts are spent."""
    now = clock.now()
    message = (f"Building these records failed unexpectedly ({type(error).__name__}); it "
               "will be retried.")
    with transaction.atomic():
        if not leases.fence(Book, [claim.book_id], claim.token, now=now):
            outcome = "lease_lost"
        else:
            attempts = Book.objects.values_list("attempts", flat=True).get(id=claim.book_id)
            dead = attempts >= settings.CAIRN_MAX_ATTEMPTS
            Book.objects.filter(id=claim.book_id).update(
                lease_token=None, lease_owner="", lease_expires_at=None,
                error_code=type(error).__name__, error_message=message,
                needs_work=not dead,
                status=Book.Status.DEAD if dead else F("status"),
                due_at=now if dead else backoff.next_attempt_at(
                    attempts, now=now, base_s=settings.CAIRN_BACKOFF_BASE_S,
                    cap_s=settings.CAIRN_BACKOFF_CAP_S))
            outcome = "dead" if dead else "retrying"
        _end_attempt(claim, outcome, now=now, mode="", read=0, started=started,
                     error=(type(error).__name__, message))
    return outcome


def _end_attempt(claim: BookClaim, outcome: str, *, now: datetime, mode: str, read: int,
                 started: float, error: tuple[str, str] = ("", "")) -> None:
    BookAttempt.objects.filter(id=claim.attempt_id).update(
        ended_at=now, outcome=outcome, mode=mode, activities_read=read,
        duration_ms=round((time.monotonic() - started) * 1000),
        error_code=error[0], error_message=error[1])


def _close_open_attempts(book_ids: list[int], *, now: datetime) -> None:
    """An orphan was leased again: its stopped holder's attempt ends as worker_died."""
    BookAttempt.objects.filter(book_id__in=book_ids, ended_at__isnull=True).update(
        ended_at=now, outcome="worker_died", error_code=expired.CODE)
