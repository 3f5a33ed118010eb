"""The backfill in one process, to see where its time goes: N processed activities, a bump
of `summary` (or of the no-op floor), then sweep rounds until none is old; per activity
the wall time, this process's CPU, the database backend's CPU and the statements, and
optionally a cProfile of the rounds.

    DATABASE_URL=postgres://…/somedb python -m bench.backfill_probe --size 5000 \
        [--deriver noop] [--batch 50] [--profile out.prof] [--refill]

The database is migrated and filled on first use (or with --refill), and reused after.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.noop_settings")
os.environ.setdefault("CAIRN_ROLLOUT_PREVIEW", "")  # promoted at once, as in the benchmark
os.environ.setdefault("CAIRN_LOG_LEVEL", "warning")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench import backfill  # noqa: E402
from reconciler import sweep  # noqa: E402


class Here:
    """What bench.backfill's fill and bump need of a site: `query`, on this connection."""

    @staticmethod
    def query(sql: str, params: list | None = None) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else []


def backend_cpu_s(pid: int) -> float:
    """User + system CPU of a local PostgreSQL backend, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=backfill.BATCH)
    parser.add_argument("--deriver", default="summary")
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--refill", action="store_true")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    if args.refill or not User.objects.filter(username="bench").exists():
        Here.query("TRUNCATE activities_activity, activities_upload, reconciler_rollout, "
                   "work_attempt, auth_user CASCADE")
        User.objects.create_user("bench")
        backfill._fill(Here, args.size)
    Here.query("UPDATE activities_activity SET needs_work = false, pending_since = NULL")
    backfill.bump(Here, args.deriver)
    statements = 0

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        return execute(sql, params, many, context)

    backend = Here.query("SELECT pg_backend_pid()")[0][0]
    profile = cProfile.Profile() if args.profile else None
    rounds, done = 0, 0
    wall, cpu, db = time.perf_counter(), time.process_time(), backend_cpu_s(backend)
    with connection.execute_wrapper(count):
        if profile:
            profile.enable()
        while backfill.behind(Here, args.deriver):
            done += sweep.sweep_once(owner="probe:1", limit=args.batch).claimed
            rounds += 1
        if profile:
            profile.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    db = backend_cpu_s(backend) - db
    if profile:
        profile.dump_stats(args.profile)
    print(json.dumps({"deriver": args.deriver, "activities": done, "rounds": rounds,
                      "ms_per_activity": round(wall * 1000 / done, 3),
                      "cpu_ms_per_activity": round(cpu * 1000 / done, 3),
                      "db_cpu_ms_per_activity": round(db * 1000 / done, 3),
                      "statements_per_round": round((statements - rounds - 1) / rounds, 1)}))


if __name__ == "__main__":
    main()
