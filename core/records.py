"""One user's records and totals over their activities, built whole or merged one activity
at a time, with the same result either way.

Input: one `Fact` per activity (its summary's figures and best efforts, the sport shown).
Output (`Book`, JSON-able, stored on the user's row):
    records   "<sport> <kind>" -> {"value", "activity_id", "achieved_at", "start_offset_s",
              "end_offset_s"}: the best of each kind; ties go to the earlier activity
    totals    period ("week", "month", "year") -> "<period_start> <sport>" ->
              [count, distance in dm, moving time in ds, ascent in dm, undated count]:
              integers, so that sums are exact in any order (incremental and full builds
              agree to the bit). Periods are of the activity's local date (where it
              began); an activity without timestamps counts on the day it was uploaded,
              and among the period's undated ones
    included  "<activity id>" -> its `signature` (the sport shown and the contents of
              what was read): what the
              book was built from, compared with what exists to tell an addition (merged)
              from anything else (a delete, an edit of sport, a rebuild: built whole)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from core import efforts

#: Sports whose foot or bike best efforts become records; every sport has the rest.
FAMILIES: dict[str, str] = {"running": "running", "cycling": "cycling", "e_biking": "cycling"}
#: Kinds every sport has: summary field, unit.
SUMMARY_KINDS: dict[str, tuple[str, str]] = {
    "longest_distance": ("distance_m", "m"),
    "longest_time": ("moving_s", "s"),
    "most_ascent": ("ascent_m", "m"),
}
PERIODS = ("week", "month", "year")
#: The sport of an activity whose file and owner name none.
UNKNOWN_SPORT = "generic"


@dataclass(frozen=True, kw_only=True)
class Fact:
    """What one activity contributes."""

    activity_id: int
    sport: str
    start_time: datetime | None
    summary: dict
    efforts: dict
    #: The sport and the versions of the outputs read: a change in any is no addition.
    signature: list
    #: The calendar day the totals count it on: where it began, its local date; without
    #: timestamps, the day it was uploaded (`undated`). None: the start's UTC date.
    day: date | None = None
    undated: bool = False

    @property
    def counted_on(self) -> date | None:
        if self.day is not None:
            return self.day
        return self.start_time.date() if self.start_time is not None else None


@dataclass
class Book:
    records: dict[str, dict] = field(default_factory=dict)
    totals: dict[str, dict[str, list[int]]] = field(
        default_factory=lambda: {p: {} for p in PERIODS})
    included: dict[str, list] = field(default_factory=dict)

    def as_json(self) -> dict:
        return {"records": self.records, "totals": self.totals, "included": self.included}

    @classmethod
    def from_json(cls, value: dict | None) -> Book:
        if not value:
            return cls()
        return cls(records=value["records"], totals=value["totals"], included=value["included"])


def unit(kind: str) -> str:
    """The unit a kind's value is in."""
    if kind in SUMMARY_KINDS:
        return SUMMARY_KINDS[kind][1]
    return "W" if kind in efforts.POWER_WINDOWS else "s"


def higher_is_better(kind: str) -> bool:
    return kind in SUMMARY_KINDS or kind in efforts.POWER_WINDOWS


def build(facts: list[Fact]) -> Book:
    """The whole book from every activity."""
    book = Book()
    for fact in facts:
        add(book, fact)
    return book


def add(book: Book, fact: Fact) -> None:
    """Merge one activity that the book does not hold yet (exact: best-of and sums)."""
    book.included[str(fact.activity_id)] = list(fact.signature)
    achieved = fact.start_time.strftime("%Y-%m-%dT%H:%M:%SZ") if fact.start_time else None
    for kind, effort in candidates(fact):
        key = f"{fact.sport} {kind}"
        entry = {"value": effort["value"], "activity_id": fact.activity_id,
                 "achieved_at": achieved, "start_offset_s": effort.get("start_offset_s"),
                 "end_offset_s": effort.get("end_offset_s")}
        held = book.records.get(key)
        if held is None or _beats(entry, held, kind):
            book.records[key] = entry
    day = fact.counted_on
    if day is not None:
        figures = [1] + [_tenths(fact.summary.get(name))
                         for name in ("distance_m", "moving_s", "ascent_m")] + [int(fact.undated)]
        for period in PERIODS:
            key = f"{period_start(day, period).isoformat()} {fact.sport}"
            held = book.totals[period].setdefault(key, [0, 0, 0, 0, 0])
            for index, value in enumerate(figures):
                held[index] += value


def candidates(fact: Fact) -> list[tuple[str, dict]]:
    """The (kind, effort) pairs one activity offers for records."""
    found = []
    for kind, (name, _) in SUMMARY_KINDS.items():
        value = fact.summary.get(name)
        if value:  # a 0 m activity is nobody's longest
            found.append((kind, {"value": value}))
    family = FAMILIES.get(fact.sport)
    if family:
        found.extend((fact.efforts or {}).get(family, {}).items())
    return found


def _beats(entry: dict, held: dict, kind: str) -> bool:
    """Whether `entry` takes the record from `held`: a better value, or the same value
    set earlier (by start, then id): a total order, so any merge order gives one book."""
    if entry["value"] != held["value"]:
        return (entry["value"] > held["value"]) == higher_is_better(kind)
    return _order(entry) < _order(held)


def _order(entry: dict) -> tuple:
    return (entry["achieved_at"] is None, entry["achieved_at"] or "", entry["activity_id"])


def period_start(day: date, period: str) -> date:
    """The first day of the ISO week (Monday), month or year holding `day`."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day.replace(month=1, day=1)


def _tenths(value: float | None) -> int:
    return round((value or 0) * 10)


def is_addition(book: Book, wanted: dict[str, list]) -> bool:
    """Whether `wanted` (id -> signature) only adds activities to what the book
    holds: then merging them is exact; otherwise the book is built whole."""
    return all(wanted.get(key) == value for key, value in book.included.items())
