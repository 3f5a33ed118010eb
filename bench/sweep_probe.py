"""Inside Django, against a bench database holding N processed activities: time sweep
rounds and claims idle, at 0.1 % drift and right after a version bump; keep the plans of
the claim and rollout statements, and of every statement a sweep round sent."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
django.setup()

from django.db import connection, transaction  # noqa: E402
from django.db.models import Q  # noqa: E402

from activities.models import Activity  # noqa: E402
from core import derivers  # noqa: E402
from reconciler import sweep  # noqa: E402
from reconciler.derivation.kind import KIND  # noqa: E402
from reconciler.derivation.kind import claim as claim_activities  # noqa: E402
from reconciler.rollouts import advance as rollouts  # noqa: E402
from work import clock, kinds  # noqa: E402
from work import drift as work_drift  # noqa: E402

TABLE = "activities_activity"


def claim_select(*, orphans: bool = False) -> tuple[str, dict]:
    """The select inside the activity kind's claim statement (its first step, orphans, or
    its second), and its parameters."""
    statement = KIND.statements.orphan if orphans else KIND.statements.due
    inner = statement[statement.index("SELECT"):statement.rindex(")")]
    return (inner.format(lock="FOR UPDATE SKIP LOCKED"),
            {**KIND.params(), "now": clock.now(), "limit": 10})


def ms(function) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def plan(sql: str, params: list | dict) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def claim_plan(*, orphans: bool = False) -> str:
    """The plan of the claim's first step (orphans: its select) or of its second (the
    whole statement shared among owners, reconciler.derivation.kind.CLAIM_DUE)."""
    if orphans:
        return plan(*claim_select(orphans=True))
    return plan(KIND.statements.due, fair_params(KIND.params()))


def fair_params(params: dict) -> dict:
    return {**params, "token": "0" * 32, "owner": "bench:plan", "expires": clock.now(),
            "now": clock.now(), "limit": 10, "after": 0}


class Statements:
    """Every statement sent while recording (SQL and parameters, once per SQL text), for
    their plans afterwards."""

    KINDS = ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH")

    def __init__(self) -> None:
        self.seen: dict[str, object] = {}
        self.recording = False

    def __call__(self, execute, sql, params, many, context):
        if self.recording and not many and sql.lstrip().upper().startswith(self.KINDS):
            self.seen.setdefault(sql, params)
        return execute(sql, params, many, context)

    def plans(self) -> dict[str, str]:
        return {f"statement: {' '.join(sql.split())[:90]}": plan(sql, params)
                for sql, params in self.seen.items()}


def bump(name: str) -> None:
    """A deploy in this process: `name` is produced one version newer, so that every
    stored output of it is old at once (tests/bumps.py does the same), with no write."""
    bumped = tuple(dataclasses.replace(d, version=d.version + 1) if d.name == name else d
                   for d in derivers.ALL)
    derivers.ALL = bumped
    derivers.BY_NAME = {d.name: d for d in bumped}
    derivers.VERSIONS = {d.name: d.version for d in bumped}
    rollouts.SEEN.reset()


def claim_blocks() -> int:
    """Buffers the claim's select touches (of reconciler.derivation.kind.CLAIM_DUE, the rows it
    locks), run for real (EXPLAIN ANALYZE, rolled back): the work it does, which the load
    on the machine does not change, unlike its time."""
    statement = KIND.statements.due
    select = statement[statement.index("WITH RECURSIVE"):statement.rindex(")\nRETURNING")]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + select,
                       fair_params(KIND.params()))
        top = _json(cursor.fetchone()[0])[0]["Plan"]
        transaction.set_rollback(True)
    return top.get("Shared Hit Blocks", 0) + top.get("Shared Read Blocks", 0)


#: The activities as a kind of work (drift's counts of them), for the plans of the counts
#: while no app registers them: what the activities' kind declares.
ACTIVITIES = kinds.Kind(
    name="activity", label="activities", model=Activity, statements=kinds.Statements(due=""),
    doing="", max_attempts=lambda: 5, backoff=lambda: (1.0, 1.0), error_fields=lambda c, m: {},
    rows=lambda: Q(deleted_at__isnull=True),
    dead=lambda: Q(status=Activity.Status.DEAD, deleted_at__isnull=True),
    failed=lambda: Q(status=Activity.Status.FAILED, deleted_at__isnull=True))


def work_counts() -> None:
    """Every registered kind's drift counts (work.drift), and the activities' if no kind
    of theirs is registered: their statements are among those whose plans are judged."""
    on_activities = [k for k in kinds.ALL.values() if k.model is Activity]
    for kind in [*kinds.ALL.values(), *([] if on_activities else [ACTIVITIES])]:
        work_drift.count(kind, now=clock.now())


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


#: Batches left leased after the bump, as many as sweepers hold at once (2 × 50 rows):
#: older ones are settled, as their workers would, so that what the claim steps over
#: in its index is what a deployment has in flight, the same at every size.
IN_FLIGHT = 10


class Leased:
    """The claim after the bump, with the batches before the last IN_FLIGHT settled."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def claim(self) -> None:
        self.batches.append([c.row_id for c in
                             claim_activities(limit=10, now=clock.now(), owner="bench:1")])

    def settle_old(self) -> None:
        while len(self.batches) > IN_FLIGHT:
            execute(SETTLE, [self.batches.pop(0)])


#: What a worker's settlement leaves on an activity it finished (the outputs aside).
SETTLE = (f"UPDATE {TABLE} SET needs_work = false, lease_token = NULL, lease_owner = '', "
          "lease_expires_at = NULL, pending_since = NULL WHERE id = ANY(%s)")


def claim() -> int:
    return len(claim_activities(limit=10, now=clock.now(), owner="bench:1"))


def execute(sql: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    out: dict = {"plans": {}}
    statements = Statements()
    connection.execute_wrappers.append(statements)  # for the whole process
    statements.recording = True  # the first round looks at everything once
    sweep.sweep_once()  # warm: rollouts known finished, heartbeat written
    sweep.sweep_once()
    work_counts()  # drift's counts of every kind: judged like the sweep's statements
    statements.recording = False
    out["idle_round_ms"] = [ms(sweep.sweep_once) for _ in range(args.samples)]
    out["idle_claim_ms"] = [ms(claim) for _ in range(args.samples)]
    out["idle_claim_blocks"] = claim_blocks()
    out["plans"]["idle claim"] = claim_plan()
    out["plans"]["idle claim, orphans first"] = claim_plan(orphans=True)

    now = clock.now()
    execute(f"UPDATE {TABLE} SET needs_work = true, due_at = %s, pending_since = %s "
            f"WHERE id IN (SELECT id FROM {TABLE} TABLESAMPLE BERNOULLI (0.1))", [now, now])
    execute(f"ANALYZE {TABLE}")
    out["plans"]["claim at 0.1 % drift"] = claim_plan()
    out["drift_claim_ms"] = []
    while True:
        started = time.perf_counter()
        if not claim():
            break
        out["drift_claim_ms"].append((time.perf_counter() - started) * 1000)
    # Their workers settle them (else 0.1 % of the table would stay leased in the claim's
    # index for the rest of the run, a backlog no deployment keeps).
    execute(SETTLE.replace("id = ANY(%s)", "lease_token IS NOT NULL"))

    # The bump: this code makes summaries a version newer than every stored one, and
    # their rollout starts at the first step.
    bump("summary")
    out["bump_rollout_ms"], out["bump_claim_ms"] = [], []
    leased = Leased()
    statements.recording = True
    for _ in range(args.samples):
        out["bump_rollout_ms"].append(ms(lambda: rollouts.advance(now=clock.now(),
                                                                  batch=1000)))
        out["bump_claim_ms"].append(ms(leased.claim))
        statements.recording = False  # the bench's own statement
        leased.settle_old()
        statements.recording = True
    # The pass at its end while the backfill is still pending: what every round does
    # for as long as the backfill takes (hours, at millions).
    statements.recording = False
    execute("UPDATE reconciler_rollout SET cursor = (SELECT max(id) FROM activities_activity)"
            " WHERE finished_at IS NULL")
    statements.recording = True
    out["end_rollout_ms"] = [ms(lambda: rollouts.advance(now=clock.now(), batch=1000))
                             for _ in range(max(10, args.samples // 10))]
    statements.recording = False
    out["bump_claim_blocks"] = claim_blocks()
    out["plans"]["claim after the bump"] = claim_plan()
    out["plans"]["claim after the bump, orphans first"] = claim_plan(orphans=True)
    out["plans"] |= statements.plans()
    with connection.cursor() as cursor:  # what a sequential scan of each table reads
        cursor.execute("SELECT relname, relpages FROM pg_class WHERE relkind = 'r' AND "
                       "relnamespace = 'public'::regnamespace")
        out["pages"] = dict(cursor.fetchall())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
