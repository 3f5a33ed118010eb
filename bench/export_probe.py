"""Run inside a benchmark site (`python -m bench.export_probe USER CONTENTS FORMAT RUNS`):
build USER's bulk export RUNS times as a sweeper does (leases of the export kind, each
for the sweep's budget), timing each from the ask to ready (and the CPU time this
process spent on it: the figure a busy machine moves least), and print one JSON object."""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402

from bench import peak  # noqa: E402
from exports import kind, requests  # noqa: E402
from exports.models import Export  # noqa: E402
from work import clock, leases  # noqa: E402


def main(username: str, contents: str, fmt: str, runs: int) -> dict:
    user = get_user_model().objects.get(username=username)
    seconds, cpu, sizes, steps = [], [], [], []
    for _ in range(runs):
        started, used = time.perf_counter(), time.process_time()
        export = requests.start(user, contents=contents, fmt=fmt)
        count = _drain()
        seconds.append(time.perf_counter() - started)
        cpu.append(time.process_time() - used)
        export.refresh_from_db()
        assert export.status == Export.Status.READY and export.done == export.total, export
        sizes.append(export.size_bytes)
        steps.append(count)
        requests.delete(export)
        _drain()
    return {"seconds": seconds, "cpu_s": cpu, "zip_mb": round(sizes[0] / 2**20, 1), "steps": steps,
            "activities": export.total, "peak_mb": round(peak.peak_mb(), 1)}


def _drain() -> int:
    """Lease and run exports until none is due; the leases taken."""
    taken = 0
    while True:
        leased = leases.claim(kind.KIND, limit=1, now=clock.now(), owner="bench",
                              trigger="sweep")
        if not leased:
            return taken
        taken += 1
        kind.run_one(leased[0], budget_s=kind.SWEEP_BUDGET_S)


if __name__ == "__main__":
    name, contents, fmt, runs = sys.argv[1:]
    print(json.dumps(main(name, contents, fmt, int(runs))))
