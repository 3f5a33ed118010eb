"""The JSON shapes of a user's records and totals, as the API serves them and the pages
show them, read from the stored book (core.records.Book)."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from activities.serialize import iso
from core import efforts, records
from records.models import Book
from work.models import Attempt


class Record(TypedDict):
    sport: str
    kind: str
    value: float
    unit: str
    activity_id: int
    achieved_at: str | None
    start_offset_s: float | None
    end_offset_s: float | None


class Total(TypedDict):
    period_start: str
    sport: str
    count: int
    distance_m: float
    moving_s: float
    ascent_m: float
    #: How many of `count` had no timestamps: counted on the day they were uploaded.
    undated: int


#: Kinds in the order a reader expects: short to long, then power, then the rest.
_ORDER = [*efforts.RUN_DISTANCES, *efforts.RIDE_DISTANCES,
          *efforts.POWER_WINDOWS, *records.SUMMARY_KINDS]


def record_list(book: Book | None) -> list[Record]:
    """Every record of the book, by sport, then kind in _ORDER."""
    stored = (book.data or {}).get("records", {}) if book else {}
    out: list[Record] = []
    for key, entry in stored.items():
        sport, kind = key.rsplit(" ", 1)
        out.append({"sport": sport, "kind": kind, "value": entry["value"],
                    "unit": records.unit(kind), "activity_id": entry["activity_id"],
                    "achieved_at": entry["achieved_at"],
                    "start_offset_s": entry.get("start_offset_s"),
                    "end_offset_s": entry.get("end_offset_s")})
    out.sort(key=lambda r: (r["sport"], _ORDER.index(r["kind"]) if r["kind"] in _ORDER
                            else len(_ORDER), r["kind"]))
    return out


def total_list(book: Book | None, period: str) -> list[Total]:
    """The totals of one period kind, newest period first, then by sport."""
    stored = (book.data or {}).get("totals", {}).get(period, {}) if book else {}
    out: list[Total] = []
    for key, (count, distance_dm, moving_ds, ascent_dm, *undated) in stored.items():
        start, sport = key.split(" ", 1)
        # A book built before undated activities were counted has four figures.
        out.append({"period_start": start, "sport": sport, "count": count,
                    "distance_m": distance_dm / 10, "moving_s": moving_ds / 10,
                    "ascent_m": ascent_dm / 10, "undated": undated[0] if undated else 0})
    out.sort(key=lambda t: (t["period_start"], t["sport"]))
    out.reverse()
    return out


def state(book: Book | None) -> dict:
    """How current the book is: its status, when it was built, whether a rebuild is owed."""
    if book is None:
        return {"status": "none", "built_at": None, "pending": False}
    return {"status": book.status, "built_at": iso(book.built_at), "pending": book.needs_work}


#: A build's outcome as its owner reads it (staff see the stored word and the worker).
OUTCOME_WORDS = {"converged": "Done", "lease_lost": "Interrupted: built again",
                 "retrying": "Failed: tried again later", "dead": "Failed: gave up",
                 "worker_died": "Interrupted: built again", "": "Building now"}


def outcome_words(outcome: str | None) -> str:
    return OUTCOME_WORDS.get(outcome or "", (outcome or "").replace("_", " ").capitalize())


def why_for_owner(book: Book | None, *, now: datetime) -> str:
    """`why` in its owner's words: no workers, leases or commands."""
    if book is None:
        return why(book, now=now)
    if book.status == Book.Status.DEAD:
        return ("Building your records failed again and again, so it stopped until the "
                "administrator starts it again.")
    if book.lease_token:
        return "Your records are being built now."
    if book.needs_work and book.attempts:
        return "Building your records failed; it will be tried again shortly."
    if book.needs_work:
        return "Your activities changed: the records are rebuilt in a moment."
    return "Up to date: built from every processed activity."


def why(book: Book | None, *, now: datetime) -> str:
    """One plain sentence: what the book is waiting for, or why it stopped."""
    if book is None:
        return "No records yet: they are built once an activity has been processed."
    if book.status == Book.Status.DEAD:
        return (f"Gave up after {book.attempts} failures in a row (last: "
                f"{book.error_message}). Rebuild with `resync --deriver records --owner "
                f"{book.user.get_username()}` or the admin's action.")
    if book.lease_token and book.lease_expires_at and book.lease_expires_at > now:
        return f"Being built by worker {book.lease_owner}."
    if book.lease_token:
        return f"Worker {book.lease_owner}'s lease ran out: the next sweep takes it over."
    if book.needs_work and book.attempts:
        return (f"Waiting to retry after {book.attempts} failure(s) (last: "
                f"{book.error_message})")
    if book.needs_work:
        return "Activities changed: the next sweep rebuilds the records."
    return "Ready: built from every processed activity."


def attempt_dict(attempt: Attempt) -> dict:
    """One attempt of a book (work.Attempt of kind "book"; its detail says what the build
    did)."""
    detail = attempt.detail or {}
    return {"id": attempt.id, "worker": attempt.worker, "started_at": iso(attempt.started_at),
            "ended_at": iso(attempt.ended_at), "outcome": attempt.outcome or None,
            "mode": detail.get("mode") or None,
            "activities_read": detail.get("activities_read", 0),
            "duration_ms": detail.get("duration_ms", 0),
            "error_code": attempt.error_code or None, "error": attempt.error_message or None}
