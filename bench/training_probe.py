"""Run inside a benchmark site (`python -m bench.training_probe USER RUNS`): build USER's
training book through the kernel (training.kind.sweep: the claim, the build, the fenced
write and the release the worker runs), then time its rebuilds after an FTP change and
after one new activity; print one JSON object."""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from activities.models import Activity  # noqa: E402
from training import flags, resync, thresholds  # noqa: E402
from training import kind as books  # noqa: E402
from training.models import ActivityLoad, Book, Day  # noqa: E402
from work import attempts, clock  # noqa: E402

LOAD_FIELDS = ("pk", "activity_id", "day", "sport", "signature", "load", "source", "reason",
               "normalized_w", "intensity", "curve", "distance_dm", "moving_ds")
DAY_FIELDS = ("pk", "date", "load", "fitness", "fatigue", "form", "fitness_state",
              "fatigue_state")


def main(username: str, runs: int) -> dict:
    user = get_user_model().objects.get(username=username)
    first = Activity.objects.filter(owner=user).order_by("start_time").first().start_time
    thresholds.put(user.id, thresholds.Wanted("ftp", 250, first.date() - timedelta(days=1)),
                   now=clock.now())
    thresholds.put(user.id, thresholds.Wanted("lthr", 165, first.date() - timedelta(days=1)),
                   now=clock.now())
    whole = []
    for _ in range(runs):
        resync.resync([user.id], now=clock.now())
        whole.append(_drain()[0])
    return {"whole_s": whole, "ftp_change": ftp_change(user, runs),
            "appended": appended(user, runs)}


def ftp_change(user, runs: int) -> dict:
    """An FTP effective a year before the last activity's day, a new value each run."""
    last = ActivityLoad.objects.filter(user=user).order_by("-day").values_list(
        "day", flat=True).first()
    cut = last - timedelta(days=365)
    out = {"cut": cut.isoformat(), "seconds": [], "loads_computed": [], "expected": [],
           "days_written": [], "series_from": [], "before_identical": [],
           "rewritten_from_cut": [], "rows_read": []}
    for run in range(runs):
        loads, days = _loads(user), _days(user)
        expected = sum(1 for row in loads.values()
                       if row[2] is not None and row[2] >= cut and row[8] is not None)
        thresholds.put(user.id, thresholds.Wanted("ftp", 270 + 5 * run, cut), now=clock.now())
        seconds, counted = _drain(count=True)
        out["rows_read"].append(counted["rows"])
        detail = _detail(user)
        after_loads, after_days = _loads(user), _days(user)
        out["seconds"].append(seconds)
        out["loads_computed"].append(detail["loads_computed"])
        out["expected"].append(expected)
        out["days_written"].append(detail["days_written"])
        out["series_from"].append(detail["series_from"])
        out["before_identical"].append(
            _before(loads, cut) == _before(after_loads, cut)
            and {d: v for d, v in days.items() if d < cut}
            == {d: v for d, v in after_days.items() if d < cut})
        out["rewritten_from_cut"].append(sum(
            1 for i, row in after_loads.items() if i in loads and row[0] != loads[i][0]))
    return out


def appended(user, runs: int) -> dict:
    """One new activity (a copy of the latest one's outputs, an hour ago), flagged as a
    settle flags it; the rebuild timed with the rows and statements it read counted;
    after the last run, the book compared with a whole rebuild of the same inputs."""
    out = {"seconds": [], "rows_read": [], "queries": [], "loads_computed": [],
           "days_written": [], "equals_whole": []}
    for _ in range(runs):
        _append(user)
        flags.mark([user.id], now=clock.now(), fresh=True)
        seconds, counted = _drain(count=True)
        detail = _detail(user)
        out["seconds"].append(seconds)
        out["rows_read"].append(counted["rows"])
        out["queries"].append(counted["queries"])
        out["loads_computed"].append(detail["loads_computed"])
        out["days_written"].append(detail["days_written"])
    incremental = _content(user)
    resync.resync([user.id], now=clock.now())
    _drain()
    out["equals_whole"].append(_content(user) == incremental)
    return out


def _append(user) -> None:
    latest = Activity.objects.filter(owner=user).order_by("-start_time").first()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO activities_activity (owner_id, upload_id, name, external_id, format, "
            "sha256, file_name, size_bytes, created_at, start_time, status, error_code, "
            "error_message, needs_work, generation, priority, due_at, lease_owner, attempts, "
            "processed_at, sport) SELECT owner_id, upload_id, '', '', 'fit', "
            "md5(random()::text) || md5(random()::text), 'x', 1, now(), now() - interval "
            "'1 hour', 'ready', '', '', false, 1, 0, now(), '', 0, now(), 'cycling' "
            "FROM activities_activity WHERE id = %s RETURNING id", [latest.id])
        new = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO activities_derived (activity_id, deriver, version, status, data, "
            "digest, error_code, error_message, duration_ms, updated_at) SELECT %s, deriver, "
            "version, status, data, digest, '', '', 0, now() FROM activities_derived "
            "WHERE activity_id = %s AND deriver IN ('track', 'summary')", [new, latest.id])


def _drain(*, count: bool = False) -> tuple[float, dict]:
    """Sweep books (only books) until none is due; seconds taken, and the statements run
    and rows they returned."""
    counted = {"queries": 0, "rows": 0}

    def counting(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        cursor = context["cursor"]
        counted["queries"] += 1
        if cursor.description is not None and cursor.rowcount > 0:
            counted["rows"] += cursor.rowcount
        return result

    started = time.perf_counter()
    if count:
        with connection.execute_wrapper(counting):
            while books.sweep(now=clock.now(), owner="bench"):
                pass
    else:
        while books.sweep(now=clock.now(), owner="bench"):
            pass
    return time.perf_counter() - started, counted


def _detail(user) -> dict:
    return (attempts.of(books.KIND.name, Book.objects.get(user=user).id)
            .order_by("-id").values_list("detail", flat=True).first())


def _loads(user) -> dict[int, tuple]:
    return {row[1]: row for row in
            ActivityLoad.objects.filter(user=user).values_list(*LOAD_FIELDS)}


def _days(user) -> dict[date, tuple]:
    return {row[1]: row for row in Day.objects.filter(user=user).values_list(*DAY_FIELDS)}


def _before(loads: dict[int, tuple], cut: date) -> dict[int, tuple]:
    return {i: row for i, row in loads.items() if row[2] is None or row[2] < cut}


def _content(user) -> tuple:
    """The book's loads, days, curve and gear, without row ids."""
    book = Book.objects.get(user=user)
    return ({i: row[1:] for i, row in _loads(user).items()},
            {d: row[1:] for d, row in _days(user).items()}, book.curve, book.gear)


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], int(sys.argv[2])), default=str))
