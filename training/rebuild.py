"""Building users' training books: the training kind's work (training.kind leases and
releases it). A build recomputes the load of each activity whose inputs moved (its
signature: training.inputs), removes those of activities gone, and recomputes the daily
series from the earliest day any of them touched, resuming from the exact state stored
for the day before; every other load and day is left as it was, not rewritten. Gear
totals are summed again from every activity's figures (integers: cheap and exact). The
rows are written under the fence (work.leases.hold), the book's own fields by the
release."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

import structlog
from django.db import transaction
from django.db.models import Case, F, Q, Value, When

from activities import times
from activities.models import Activity, Profile
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
    gear: dict = field(default_factory=dict)
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
        "curve": plan.curve, "gear": plan.gear, "version": VERSION, "status": Book.Status.READY,
        "built_at": clock.now(), "error_code": "", "error_message": "",
        # A whole rebuild asked for while this one was built stays asked for.
        "whole": Case(When(generation=lease.generation, then=Value(False)),
                      default=F("whole"))}, detail=detail)


def today_of(user_id: int) -> date:
    """Today where the user is (the zone their activities' days are in)."""
    zone = Profile.objects.filter(user_id=user_id).values_list("time_zone", flat=True).first()
    return times.local_date(clock.now(), None, times.zone(zone))


def build(user_id: int, *, today: date) -> Plan:
    """What to write to bring the user's loads, days and gear totals to their inputs
    (nothing is written here)."""
    wanted = inputs.wanted(user_id)
    book = Book.objects.filter(user_id=user_id).values("version", "whole").first()
    whole = book is None or book["whole"] or book["version"] != VERSION
    stored = {i: (signature, (day, value), (metres, moving)) for
              i, signature, day, value, metres, moving in
              ActivityLoad.objects.filter(user_id=user_id).values_list(
                  "activity_id", "signature", "day", "load", "distance_dm", "moving_ds")}
    todo = sorted(i for i in wanted
                  if whole or i not in stored or stored[i][0] != wanted[i].signature)
    plan = Plan(whole=whole, removed=sorted(stored.keys() - wanted.keys()))
    for activity_id, track, summary in inputs.stored(todo):
        plan.computed.append(computed(user_id, activity_id, track, summary,
                                      wanted[activity_id]))
    redone = {row.activity_id for row in plan.computed}
    kept = [i for i in stored if i in wanted and i not in redone]
    loads = {i: stored[i][1] for i in kept} | {
        row.activity_id: (row.day, row.load) for row in plan.computed}
    figures = {i: stored[i][2] for i in kept} | {
        row.activity_id: (row.distance_dm, row.moving_ds) for row in plan.computed}
    moved = moved_days({i: entry[1] for i, entry in stored.items()}, loads,
                       [*redone, *plan.removed])
    plan.curve = all_time_curve(user_id, plan.computed, exclude=redone | set(plan.removed))
    plan.gear = gear_totals(user_id, figures)
    plan_series(plan, user_id, loads, moved=moved, today=today)
    return plan


def plan_series(plan: Plan, user_id: int, loads: dict[int, tuple], *,
                moved: list[date], today: date) -> None:
    """The days to write: from the first activity's day to today (or the last activity's
    day, if later), restarted from the earliest day whose load moved or after the last
    day stored, and from the first day when that moved or all is redone."""
    days = [day for day, _ in loads.values() if day is not None]
    plan.first = min(days, default=None)
    if plan.first is None:
        return
    end = max(today, *days)
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
    daily = fitness.daily_loads((day, value) for day, value in loads.values()
                                if day is not None and value is not None)
    plan.restart = restart
    plan.days = fitness.series(daily, start=restart, end=end, before=before)


def gear_totals(user_id: int, figures: dict[int, tuple[int, int]]) -> dict[str, list[int]]:
    """{"<gear id>": [count, distance_dm, moving_ds]} over the activities with gear."""
    totals: dict[str, list[int]] = {}
    for activity_id, gear in (Activity.objects.live()
                              .filter(owner_id=user_id, gear__isnull=False)
                              .values_list("id", "gear_id")):
        if activity_id in figures:
            metres, moving = figures[activity_id]
            entry = totals.setdefault(str(gear), [0, 0, 0])
            entry[0], entry[1], entry[2] = entry[0] + 1, entry[1] + metres, entry[2] + moving
    return totals


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


def best_of(rows: list[tuple[date, int, list]]) -> list:
    """The best point per duration over (day, activity id, curve) rows."""
    best: dict[int, tuple[float, int]] = {}
    for _, activity_id, curve in sorted(rows, key=lambda r: (r[0] or date.min, r[1])):
        for duration, watts, _ in curve:
            if duration not in best or watts > best[duration][0]:
                best[duration] = (watts, activity_id)
    return [[d, w, i] for d, (w, i) in sorted(best.items())]


def write(user_id: int, plan: Plan) -> None:
    """The plan's rows, inside the caller's fenced transaction."""
    ActivityLoad.objects.filter(user_id=user_id, activity_id__in=[
        *(row.activity_id for row in plan.computed), *plan.removed]).delete()
    ActivityLoad.objects.bulk_create(plan.computed, batch_size=500)
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
