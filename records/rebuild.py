"""Building users' books: the book kind's work (records.kind leases and releases it).
Each leased book is built (merged when only activities were added, else whole) and the
result goes back as the outcome, written under the fence by the kernel's release.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import structlog
from django.db.models import Case, F, Value, When

from core import heatmap, records
from records import inputs
from records.models import Book
from work import clock
from work.leases import Lease
from work.outcomes import Done, Outcome, Retry

log = structlog.get_logger(__name__)

#: The version of what a book holds; bump it with any change to core.records,
#: core.heatmap or records.inputs that changes a book, and every book is rebuilt whole.
#: 1: records, totals and heatmap.
#: 2: the heatmap in regions (core.heatmap.Heat).
#: 3: totals by the activity's local date; undated activities by their upload's (counted).
#: 4: activities' signatures name their outputs' contents (digests), not their versions.
VERSION = 4


@dataclass(frozen=True)
class Built:
    book: records.Book
    heat: heatmap.Heat | None
    mode: str  # "merged" or "whole"
    read: int  # activities whose outputs were read


def run(lease: Lease) -> Outcome:
    """The book kind's work on one leased book: build it; Done with what it holds (it
    stays due when its inputs changed meanwhile: a new generation), or Retry when the
    build failed (the database, a bug: retried after backoff, then dead)."""
    started = time.monotonic()
    user_id = Book.objects.values_list("user_id", flat=True).get(id=lease.row_id)
    bound = log.bind(user_id=user_id, book_id=lease.row_id, lease_token=lease.token)
    try:
        built = build(user_id)
    except Exception as error:  # noqa: BLE001 (this book's outcome)
        bound.exception("records.build_failed", error=f"{type(error).__name__}: {error}")
        return Retry(type(error).__name__,
                     f"Building these records failed unexpectedly ({type(error).__name__}); "
                     "it will be retried.", detail=_detail("", 0, started))
    detail = _detail(built.mode, built.read, started)
    bound.info("records.built", mode=built.mode, activities_read=built.read,
               ms=detail["duration_ms"])
    return Done(fields={
        "data": built.book.as_json(), "heat": built.heat.dumps() if built.heat else None,
        "heatmap_png": heatmap.png(built.heat), "version": VERSION,
        "status": Book.Status.READY, "built_at": clock.now(), "error_code": "",
        "error_message": "",
        # A whole rebuild asked for while this one was built stays asked for.
        "whole": Case(When(generation=lease.generation, then=Value(False)),
                      default=F("whole"))}, detail=detail)


def _detail(mode: str, read: int, started: float) -> dict:
    """What the attempt log keeps of a build: "merged" or "whole", the activities whose
    outputs it read, and how long it took."""
    return {"mode": mode, "activities_read": read,
            "duration_ms": round((time.monotonic() - started) * 1000)}


def build(user_id: int) -> Built:
    """What the user's book should hold now, merged into the stored one when the change
    is only added activities (and their routes fit its heatmap's regions), else whole."""
    wanted = inputs.wanted(user_id)
    stored = (Book.objects.filter(user_id=user_id).values("version", "data", "heat", "whole")
              .first())
    if (stored and stored["version"] == VERSION and stored["data"] is not None
            and not stored["whole"]):
        book = records.Book.from_json(stored["data"])
        if records.is_addition(book, wanted):
            added = sorted(int(k) for k in wanted.keys() - book.included.keys())
            heat = heatmap.Heat.loads(bytes(stored["heat"])) if stored["heat"] else None
            paths = []
            for fact, segments in inputs.facts(added, wanted):
                records.add(book, fact)
                paths.extend(segments)
            if (heat is not None and all(heatmap.fits(heat, p) for p in paths)) or not paths:
                for path in paths:
                    heatmap.add(heat, path)
                return Built(book=book, heat=heat, mode="merged", read=len(added))
    book, paths = records.Book(), []
    ids = sorted(int(k) for k in wanted)
    for fact, segments in inputs.facts(ids, wanted):
        records.add(book, fact)
        paths.extend(segments)
    return Built(book=book, heat=heatmap.build(paths), mode="whole", read=len(ids))
