"""Inside Django, against a bench database holding N processed activities: time sweep
rounds and claims idle, at 0.1 % drift and right after a version bump; keep the plans."""

from __future__ import annotations

import argparse
import json
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
django.setup()

from django.db import connection  # noqa: E402

from core import derivers  # noqa: E402
from reconciler import clock, leases, rollouts, sweep  # noqa: E402
from reconciler.models import Rollout  # noqa: E402

TABLE = "activities_activity"
CLAIM_SELECT = (f"SELECT id FROM {TABLE} AS a WHERE needs_work AND due_at <= %(now)s AND "
                "{condition} ORDER BY priority, pending_since LIMIT 10 FOR UPDATE SKIP LOCKED")


def ms(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def plan(sql: str, params: list | dict) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def claim_plan(*, orphans: bool = False) -> str:
    """The plan of the claim's select: of its first step (orphans) or of its second."""
    condition, params = leases._not_newer()
    which = "a.lease_token IS NOT NULL" if orphans else "a.lease_token IS NULL"
    return plan(CLAIM_SELECT.format(condition=f"{which} AND {condition}"),
                {**params, "now": clock.now()})


def claim() -> int:
    return len(leases.claim(limit=10, now=clock.now(), owner="bench:1"))


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    out: dict = {"plans": {}}
    sweep.sweep_once()  # warm: rollouts known finished, heartbeat written
    out["idle_round_ms"] = [ms(sweep.sweep_once) for _ in range(args.samples)]
    out["idle_claim_ms"] = [ms(claim) for _ in range(args.samples)]
    out["plans"]["idle claim"] = claim_plan()
    out["plans"]["idle claim, orphans first"] = claim_plan(orphans=True)

    now = clock.now()
    execute(f"UPDATE {TABLE} SET needs_work = true, due_at = %s, pending_since = %s "
            f"WHERE id IN (SELECT id FROM {TABLE} ORDER BY random() "
            f"LIMIT (SELECT count(*) / 1000 FROM {TABLE}))", [now, now])
    execute(f"ANALYZE {TABLE}")
    out["plans"]["claim at 0.1 % drift"] = claim_plan()
    out["drift_claim_ms"] = []
    while True:
        started = time.perf_counter()
        if not claim():
            break
        out["drift_claim_ms"].append((time.perf_counter() - started) * 1000)

    # The bump: every stored summary is now older than the code's, and its rollout new.
    summary = derivers.BY_NAME["summary"]
    execute("UPDATE activities_derived SET version = %s WHERE deriver = 'summary'",
            [summary.version - 1])
    Rollout.objects.filter(deriver="summary").delete()
    rollouts.SEEN.reset()
    execute("ANALYZE")
    out["bump_rollout_ms"], out["bump_claim_ms"] = [], []
    for _ in range(args.samples):
        out["bump_rollout_ms"].append(ms(lambda: rollouts.advance(now=clock.now(),
                                                                  batch=1000)))
        out["bump_claim_ms"].append(ms(claim))
    out["plans"]["claim after the bump"] = claim_plan()
    out["plans"]["claim after the bump, orphans first"] = claim_plan(orphans=True)
    out["plans"]["rollout step"] = plan(
        "SELECT id FROM activities_activity WHERE id > %s ORDER BY id LIMIT 1000", [0])
    out["plans"]["rollout lookup"] = plan(
        "SELECT activity_id, version FROM activities_derived WHERE activity_id = ANY(%s) "
        "AND deriver = 'summary'", [list(range(1, 1001))])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
