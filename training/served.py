"""What the training API answers, read from the last built book: the days of the fitness
series (the stored ones, and after the last one the same decay a build would store, so
that a book built yesterday still answers for today), the power curves, and whether the
book is current."""

from __future__ import annotations

from datetime import date, timedelta

from core.training import fitness
from training import rebuild
from training.models import ActivityLoad, Book, Day

#: Days a range may span: ten years.
MAX_DAYS = 3660
#: The recent power curve's window, today included.
RECENT_DAYS = 90


def state(book: Book | None) -> dict:
    """"current": no rebuild owed (false while one is: the answer is the last build's)."""
    if book is None:
        return {"current": False, "status": "none", "built_at": None}
    return {"current": not book.needs_work, "status": book.status,
            "built_at": book.built_at.isoformat().replace("+00:00", "Z")
            if book.built_at else None}


def days(user_id: int, start: date, end: date, *, today: date) -> list[dict]:
    """The series' days from `start` to `end` inclusive, none before the first activity
    and none after today; past the last stored day, the stored state decays (no load)."""
    rows = list(Day.objects.filter(user_id=user_id, date__gte=start, date__lte=end)
                .order_by("date").values("date", "load", "fitness", "fatigue", "form"))
    out = [{**row, "date": row["date"].isoformat()} for row in rows]
    last = (Day.objects.filter(user_id=user_id).order_by("-date")
            .values("date", "fitness_state", "fatigue_state").first())
    end = min(end, today)
    if last is not None and last["date"] < end:
        state = fitness.State(fitness=last["fitness_state"], fatigue=last["fatigue_state"])
        tail = fitness.series({}, start=last["date"] + timedelta(days=1), end=end,
                              before=state)
        out += [{"date": d.date.isoformat(), "load": d.load, "fitness": d.fitness,
                 "fatigue": d.fatigue, "form": d.form} for d in tail if d.date >= start]
    return out


def curve(user_id: int, book: Book | None, *, recent: bool, today: date) -> list[dict]:
    """The best mean power per duration over all time (the book's), or over the last
    RECENT_DAYS days (from the stored per-activity curves), each with its activity."""
    if recent:
        since = today - timedelta(days=RECENT_DAYS - 1)
        points = rebuild.best_of(list(
            ActivityLoad.objects.filter(user_id=user_id, day__gte=since).exclude(curve=[])
            .values_list("day", "activity_id", "curve")))
    else:
        points = book.curve if book is not None else []
    return [{"duration_s": d, "watts": round(w, 1), "activity_id": i} for d, w, i in points]
