"""Run inside a benchmark site (`python -m bench.records_probe ...`): time users' book
builds in this process and print one JSON object.

    one USER RUNS   whole builds of USER's book, then merged builds (one activity added)
    bump RUNS       a version bump over every book: time until every book is rebuilt
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from activities.models import Activity  # noqa: E402
from bench import peak  # noqa: E402
from records import flags, outdated, rebuild  # noqa: E402
from records import kind as books  # noqa: E402
from records import resync as records_resync  # noqa: E402
from records.models import Book  # noqa: E402
from work import attempts, clock  # noqa: E402


def one(username: str, runs: int) -> dict:
    user = get_user_model().objects.get(username=username)
    whole, merged = [], []
    for _ in range(runs):
        records_resync.resync([user.id], now=clock.now())
        whole.append(_drain())
    held_back = Activity.objects.filter(owner=user).order_by("-id")[:runs]
    for activity in list(held_back):
        Activity.objects.filter(id=activity.id).update(status="queued")
    # A whole build without the held back activities, then each added back alone.
    records_resync.resync([user.id], now=clock.now())
    _drain()
    for activity in list(held_back):
        Activity.objects.filter(id=activity.id).update(status="ready")
        flags.mark([user.id], now=clock.now())
        merged.append(_drain())
    modes = list(attempts.of(books.KIND.name, Book.objects.get(user=user).id)
                 .order_by("-id").values_list("detail__mode", flat=True)[:runs])
    assert modes == ["merged"] * runs, modes
    return {"whole_s": whole, "merged_s": merged, "peak_mb": round(peak.peak_mb(), 1)}


def bump(runs: int) -> dict:
    seconds = []
    for _ in range(runs):
        _drain()
        Book.objects.update(version=rebuild.VERSION - 1)
        outdated.SEEN.reset()
        seconds.append(_drain())
        assert not Book.objects.filter(version__lt=rebuild.VERSION).exists()
    return {"seconds": seconds, "books": Book.objects.count()}


def _drain() -> float:
    """Sweep books (only books) until none is due; seconds taken."""
    started = time.perf_counter()
    while books.sweep(now=clock.now(), owner="bench"):
        pass
    return time.perf_counter() - started


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    result = one(args[0], int(args[1])) if command == "one" else bump(int(args[0]))
    print(json.dumps(result))
