"""Building users' training books: the training kind's work (training.kind leases and
releases it). A build recomputes the load of each activity whose inputs moved (its
signature: training.inputs), removes those of activities gone, and recomputes the daily
series from the earliest day any of them touched, resuming from the exact state stored
for the day before; every other load and day is left as it was, not rewritten. A build
that is not whole reads only the activities whose inputs may have moved (found by a
query: training.inputs.candidates), not every load (build). Gear totals are summed again
by the database from every load's figures (integers: cheap and exact). The rows, the
curve, the gear totals and the basis are written under the fence (work.leases.hold), the
book's state by the release."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import structlog
from django.db import connection, transaction
from django.db.models import Case, F, Q, Value, When

from activities import counted, times
from activities.models import Profile
from core.track import Track
from core.training import fitness, load, power
from training import inputs
from training.models import ActivityLoad, Book, Day
from work import clock, leases
from work.kinds import Kind
from work.leases import Lease
from work.outcomes import Done, Outcome, Retry

log = structlog.get_logger(__name__)

#: The version of what a book holds; bump it with any change to core.training or
#: training.inputs that changes a load or a day, and every book is rebuilt whole.
#: 1: TSS or hrTSS per activity, NP and IF, power curve, fitness/fatigue/form per day,
#: gear totals.
VERSION = 1


@dataclass
class Plan:
    """What one build writes: loads to (re)write and remove, the days from `restart` on
    (None: no day moved), and the book's all-time curve and gear totals."""

    computed: list[ActivityLoad] = field(default_factory=list)
    removed: list[int] = field(default_factory=list)
    restart: date | None = None
    first: date | None = None
    days: list[fitness.Day] = field(default_factory=list)
    curve: list = field(default_factory=list)
    #: training.inputs.basis: stored with the book for the next build.
    basis: dict = field(default_factory=dict)
    whole: bool = False


def run(kind: Kind, lease: Lease) -> Outcome:
    """The training kind's work on one leased book: plan, write the rows under the fence,
    and hand the book's fields to the release. Retry when the build failed (the database,
    a bug: retried after backoff, then dead); LeaseLost when the fence refused."""
    started = time.monotonic()
    user_id = Book.objects.values_list("user_id", flat=True).get(id=lease.row_id)
    bound = log.bind(user_id=user_id, book_id=lease.row_id, lease_token=lease.token)
    try:
        plan = build(user_id, today=today_of(user_id))
        with transaction.atomic():
            leases.hold(kind, lease, now=clock.now())
            write(user_id, plan)
    except leases.LeaseLost:
        raise
    except Exception as error:  # noqa: BLE001 (this book's outcome)
        bound.exception("training.build_failed", error=f"{type(error).__name__}: {error}")
        return Retry(type(error).__name__,
                     f"Building this training book failed unexpectedly "
                     f"({type(error).__name__}); it will be retried.")
    detail = {"mode": "whole" if plan.whole else "changes",
              "loads_computed": len(plan.computed), "loads_removed": len(plan.removed),
              "series_from": plan.restart.isoformat() if plan.restart else None,
              "days_written": len(plan.days),
              "duration_ms": round((time.monotonic() - started) * 1000)}
    bound.info("training.built", **detail)
    return Done(fields={
        "version": VERSION, "status": Book.Status.READY,
        "built_at": clock.now(), "error_code": "", "error_message": "",
        # A whole rebuild asked for while this one was built stays asked for.
        "whole": Case(When(generation=lease.generation, then=Value(False)),
                      default=F("whole"))}, detail=detail)


def today_of(user_id: int) -> date:
    """Today where the user is (the zone their activities' days are in)."""
    zone = Profile.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first()
    return times.local_date(clock.now(), None, times.zone(zone))


def build(user_id: int, *, today: date) -> Plan:
    """What to write to bring the user's loads, days, power curve and gear totals to
    their inputs (nothing is written here).

    A build that is not whole reads only what moved: the candidates' inputs and loads
    (training.inputs.candidates: those whose signature may have moved, by two queries),
    the loads from the day the series restarts on, the day before it, and the stored
    curve's holders. A whole build, a new code version, a book without a stored basis or
    a new time zone (every day may move) compare every activity's signature instead.
    Either way the result is the same rows (tests/db/test_training_book.py)."""
    of = inputs.basis(user_id)
    book = Book.objects.filter(user_id=user_id).values("version", "whole", "basis",
                                                       "curve").first()
    whole = book is None or book["whole"] or book["version"] != VERSION
    ids, curve = None, None
    if not whole and book["basis"].get("zone") == of["zone"]:
        ids = inputs.candidates(user_id, since=inputs.moved_from(book["basis"], of))
        curve = book["curve"]
    wanted = inputs.wanted(user_id, of=of, ids=ids)
    stored = stored_loads(user_id, ids)
    todo = sorted(i for i in wanted
                  if whole or i not in stored or stored[i][0] != wanted[i].signature)
    plan = Plan(whole=whole, removed=sorted(stored.keys() - wanted.keys()), basis=of)
    for activity_id, track, summary in inputs.stored(todo):
        plan.computed.append(computed(user_id, activity_id, track, summary,
                                      wanted[activity_id]))
    redone = {row.activity_id for row in plan.computed}
    excluded = redone | set(plan.removed)
    now = {row.activity_id: (row.day, row.load) for row in plan.computed}
    moved = moved_days({i: entry[1] for i, entry in stored.items()}, now,
                       [*redone, *plan.removed])
    plan.curve = (merged_curve(curve, plan.computed, exclude=excluded)
                  if curve is not None else None)
    if plan.curve is None:
        plan.curve = all_time_curve(user_id, plan.computed, exclude=excluded)
    kept = (None if ids is not None else
            [entry[1] for i, entry in stored.items() if i not in excluded])
    plan_series(plan, user_id, excluded=excluded, moved=moved, today=today, kept=kept)
    return plan


def stored_loads(user_id: int, ids: list[int] | None) -> dict[int, tuple]:
    """The stored loads (all, or those of `ids`) as {activity id: (signature, (day,
    load))}."""
    rows = ActivityLoad.objects.filter(user_id=user_id)
    chunks = [rows] if ids is None else [
        rows.filter(activity_id__in=ids[start:start + inputs.ID_CHUNK])
        for start in range(0, len(ids), inputs.ID_CHUNK)]
    return {i: (signature, (day, value)) for chunk in chunks for i, signature, day, value in
            chunk.values_list("activity_id", "signature", "day", "load")}


def plan_series(plan: Plan, user_id: int, *, excluded: set[int], moved: list[date],
                today: date, kept: list[tuple] | None) -> None:
    """The days to write: from the first activity's day to today (or the last activity's
    day, if later), restarted from the earliest day whose load moved or after the last
    day stored, and from the first day when that moved or all is redone. `kept` is the
    (day, load) of every stored load that stays, when the build read them all; else
    only the first, any after today and those from the restart on are read."""
    new_days = [row.day for row in plan.computed if row.day is not None]
    if kept is not None:
        kept_days = [day for day, _ in kept if day is not None]
        first, last = min(kept_days, default=None), max(kept_days, default=None)
    else:
        first, last = _kept_end(user_id, excluded), _kept_end(user_id, excluded, after=today)
    plan.first = min([*new_days, *filter(None, [first])], default=None)
    if plan.first is None:
        return
    end = max([today, *new_days, *filter(None, [last])])
    span = Day.objects.filter(user_id=user_id).values_list("date", flat=True)
    stored_first, stored_last = span.order_by("date").first(), span.order_by("-date").first()
    restart, before = plan.first, None
    if not plan.whole and stored_last is not None and stored_first == plan.first:
        restart = max(plan.first, min([*moved, stored_last + timedelta(days=1)]))
        row = Day.objects.filter(user_id=user_id, date=restart - timedelta(days=1)).first()
        if row is not None:
            before = fitness.State(fitness=row.fitness_state, fatigue=row.fatigue_state)
        else:  # the first day, or a day missing: from the first day
            restart = plan.first
    if restart > end:
        return
    if kept is None:
        kept = [(day, value) for i, day, value in
                ActivityLoad.objects.filter(user_id=user_id, day__gte=restart,
                                            load__isnull=False)
                .values_list("activity_id", "day", "load") if i not in excluded]
    daily = fitness.daily_loads(
        (day, value) for day, value in [*kept, *((row.day, row.load) for row in plan.computed)]
        if day is not None and day >= restart and value is not None)
    plan.restart = restart
    plan.days = fitness.series(daily, start=restart, end=end, before=before)


def _kept_end(user_id: int, excluded: set[int], *, after: date | None = None
              ) -> date | None:
    """The earliest day of the stored loads that stay, or (`after`) their latest day
    after that one (None: none), read a chunk at a time from that end past those redone
    or removed."""
    rows = ActivityLoad.objects.filter(user_id=user_id, day__isnull=False)
    if after is not None:
        rows = rows.filter(day__gt=after)
    rows = (rows.order_by("-day" if after is not None else "day", "activity_id")
            .values_list("activity_id", "day"))
    offset, size = 0, 100
    while True:
        chunk = list(rows[offset:offset + size])
        for activity_id, day in chunk:
            if activity_id not in excluded:
                return day
        if len(chunk) < size:
            return None
        offset, size = offset + size, min(size * 10, 10_000)


def gear_totals(user_id: int) -> dict[str, list[int]]:
    """{"<gear id>": [count, distance_dm, moving_ds]} over the user's stored loads of
    live activities with gear (read after the build's loads are written)."""
    with connection.cursor() as cursor:
        cursor.execute(GEAR_TOTALS, {"user_id": user_id})
        return {str(gear): [int(count), int(metres), int(moving)]
                for gear, count, metres, moving in cursor.fetchall()}


#: Totals per gear of the user's loads (training.rebuild.gear_totals).
GEAR_TOTALS = """
SELECT a.gear_id, COUNT(*), SUM(l.distance_dm), SUM(l.moving_ds)
  FROM training_activityload AS l
  JOIN activities_activity AS a ON a.id = l.activity_id
 WHERE l.user_id = %(user_id)s AND a.owner_id = %(user_id)s AND """ + counted.where("a") + """
   AND a.gear_id IS NOT NULL
 GROUP BY a.gear_id
 ORDER BY a.gear_id
"""


def moved_days(was: dict[int, tuple], now: dict[int, tuple], ids: list[int]) -> list[date]:
    """The days whose load moved: each activity's stored (day, load) and its new one,
    where they differ (a load of None counts on no day)."""
    days = []
    for activity_id in ids:
        before, after = was.get(activity_id), now.get(activity_id)
        if before != after:
            days += [day for day, value in filter(None, (before, after)) if value is not None]
    return days


def computed(user_id: int, activity_id: int, track: Track, summary: dict,
             wanted: inputs.Input) -> ActivityLoad:
    """One activity's load, NP and IF, and power curve, from its track and thresholds;
    its distance and moving time from its summary, in integer tenths."""
    found = load.activity_load(track, **wanted.values)
    grid = power.watts(track)
    normalized = power.normalized_power(grid.values) if grid is not None else None
    ftp = wanted.values.get("ftp_w")
    curve = power.curve(grid) if grid is not None and len(grid.values) else []
    return ActivityLoad(
        user_id=user_id, activity_id=activity_id, day=wanted.day, sport=wanted.sport,
        signature=wanted.signature, load=found.value, source=found.source or "",
        reason=found.reason or "", normalized_w=normalized,
        intensity=power.intensity_factor(normalized, ftp) if normalized and ftp else None,
        curve=[[b.duration_s, b.watts, b.start_offset_s] for b in curve],
        distance_dm=round((summary.get("distance_m") or 0) * 10),
        moving_ds=round((summary.get("moving_s") or 0) * 10))


def all_time_curve(user_id: int, computed_rows: list[ActivityLoad], *, exclude: set[int]
                   ) -> list:
    """[[duration_s, watts, activity_id], ...]: the best of every activity's curve for
    each duration (of equal bests, the earliest activity's)."""
    rows = [(day, i, curve) for i, day, curve in
            ActivityLoad.objects.filter(user_id=user_id).exclude(curve=[])
            .values_list("activity_id", "day", "curve") if i not in exclude]
    rows += [(row.day, row.activity_id, row.curve) for row in computed_rows if row.curve]
    return best_of(rows)


def merged_curve(stored: list, computed_rows: list[ActivityLoad], *, exclude: set[int]
                 ) -> list | None:
    """The all-time curve from the stored one and the loads computed now, without reading
    every curve: exact when no point of the stored one is held by an activity redone or
    removed (the stored best over the others is then still their best, earliest of
    equals); None when one is (all_time_curve reads them all)."""
    holders = {i for _, _, i in stored}
    if holders & exclude:
        return None
    days = dict(ActivityLoad.objects.filter(activity_id__in=holders)
                .values_list("activity_id", "day"))
    if holders - days.keys():
        return None  # a holder's load went without its activity being seen: read them all
    held: dict[int, list] = {}
    for duration, watts, activity_id in stored:
        held.setdefault(activity_id, []).append([duration, watts, None])
    rows = [(days[i], i, curve) for i, curve in held.items()]
    rows += [(row.day, row.activity_id, row.curve) for row in computed_rows if row.curve]
    return best_of(rows)


def best_of(rows: list[tuple[date, int, list]]) -> list:
    """The best point per duration over (day, activity id, curve) rows."""
    best: dict[int, tuple[float, int]] = {}
    for _, activity_id, curve in sorted(rows, key=lambda r: (r[0] or date.min, r[1])):
        for duration, watts, _ in curve:
            if duration not in best or watts > best[duration][0]:
                best[duration] = (watts, activity_id)
    return [[d, w, i] for d, (w, i) in sorted(best.items())]


def write(user_id: int, plan: Plan) -> None:
    """The plan's rows, and the book's curve, gear totals and basis with them, inside the
    caller's fenced transaction (the curve a later build merges into is always the one of
    the loads stored)."""
    removed = [*(row.activity_id for row in plan.computed), *plan.removed]
    for start in range(0, len(removed), inputs.ID_CHUNK):
        ActivityLoad.objects.filter(user_id=user_id,
                                    activity_id__in=removed[start:start + inputs.ID_CHUNK]
                                    ).delete()
    ActivityLoad.objects.bulk_create(plan.computed, batch_size=500)
    Book.objects.filter(user_id=user_id).update(curve=plan.curve, basis=plan.basis,
                                                gear=gear_totals(user_id))
    days = Day.objects.filter(user_id=user_id)
    if plan.first is None:
        days.delete()  # no activity with a day left
        return
    if plan.restart is None:
        return
    days.filter(Q(date__gte=plan.restart) | Q(date__lt=plan.first)).delete()
    Day.objects.bulk_create([Day(user_id=user_id, date=d.date, load=d.load,
                                 fitness=d.fitness, fatigue=d.fatigue, form=d.form,
                                 fitness_state=d.state.fitness, fatigue_state=d.state.fatigue)
                             for d in plan.days], batch_size=1000)
