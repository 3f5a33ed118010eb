"""The chaos run: uploads through the API while workers are killed, the broker vanishes,
PostgreSQL (a cluster of the run's own) and the object store restart; then wait for
convergence and report what was lost (nothing).

By default two hosts that share no disk (web on one, workers on the other, originals in a
SeaweedFS); `--storage fs` runs everything on one host with originals on its disk.

    ./cairn chaos [--uploads 2000] [--storage s3|fs] [--check] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

from bench.chaos import load, subscriber, verdict
from bench.chaos.fleet import Fleet
from bench.chaos.postgres import OwnPostgres
from tests.ports import restartable_port
from tests.seaweed import Weed


def main() -> int:
    args = _arguments()
    data_dir = Path(tempfile.mkdtemp(prefix="cairn-chaos-"))
    postgres = OwnPostgres(port=restartable_port()).start()
    store = Weed(data_dir / "weed").start() if args.storage == "s3" else None
    fleet = None
    try:
        db_url = f"{postgres.url}/{args.database}"
        _recreate_database(postgres.url, args.database)
        redis_port, web_port = restartable_port(), restartable_port()
        env = {**os.environ, "DATABASE_URL": db_url, "CAIRN_DATA_DIR": str(data_dir),
               "SECRET_KEY": secrets.token_urlsafe(40), "CAIRN_BROKER": "redis",
               "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
               "CAIRN_LEASE_S": str(args.lease), "CAIRN_WORKERS": str(args.q2_workers),
               "CAIRN_LOG_LEVEL": "warning", "CAIRN_CLOCK": "database",
               "CAIRN_CLAIM_BATCH": "5",
               # One client uploads thousands a minute here: limits would only slow the run.
               "CAIRN_UPLOADS_PER_MINUTE": "0", "CAIRN_MAX_PENDING": "0", **subscriber.ENV}
        hosts = []
        worker_env = None
        if store is not None:  # two hosts that share no disk: web on A, workers on B
            hosts = [data_dir / "host-a", data_dir / "host-b"]
            for host in hosts:
                host.mkdir()
            env = {**env, **store.env(), "CAIRN_DATA_DIR": str(hosts[0])}
            worker_env = {**env, "CAIRN_DATA_DIR": str(hosts[1])}
        fleet = Fleet(env=env, web_port=web_port, redis_port=redis_port,
                      sweepers=args.sweepers, log_dir=data_dir, worker_env=worker_env,
                      postgres=postgres, store=store)
        report = _run(fleet, args, data_dir=data_dir, db_url=db_url, web_port=web_port)
        report["storage"] = args.storage
        if hosts:
            report["files_on_hosts"] = sorted(str(p.relative_to(data_dir)) for h in hosts
                                              for p in h.rglob("*"))
    finally:
        if fleet is not None:
            fleet.stop_all()
        if store is not None:
            store.stop()
        postgres.stop()
    _print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    failed = [key for key in ("lost", "overlapping", "duplicates", "deduplicated", "refused",
                              "files_on_hosts", "webhook_events_lost") if report.get(key)]
    print(f"chaos: verdict: {_verdict(report, failed)}", flush=True)
    return 1 if args.check and failed else 0


def _verdict(report: dict, failed: list[str]) -> str:
    """One line that says what failed, for a reader of only the end of the output."""
    words = [f"failed on {', '.join(failed)}" if failed else "nothing lost"]
    if not report["converged"]:
        words.append("not converged in the time allowed")
    if report["harness_errors"]:
        words.append(f"the harness failed at {len(report['harness_errors'])} fault(s)")
    return "; ".join(words)


def _run(fleet: Fleet, args: argparse.Namespace, *, data_dir: Path, db_url: str,
         web_port: int) -> dict:
    fleet.manage("migrate", "-v0")
    token = fleet.manage("create_api_token", "chaos", "--create-user").stdout.strip()
    versions = json.loads(fleet.manage(
        "shell", "-c", "import json; from core import derivers; "
        "print(json.dumps(derivers.VERSIONS))").stdout.strip().splitlines()[-1])
    files = load.make_files(args.uploads, seed=args.seed)
    print(f"chaos: {len(files)} files, storage {args.storage}, logs in {data_dir}", flush=True)
    fleet.start_all()
    hooks = subscriber.subscribe(port=web_port, token=token)  # fails half its answers
    stop = threading.Event()
    monkey = threading.Thread(target=_monkey, args=(fleet, stop, args), daemon=True)
    started = time.time()
    monkey.start()
    acks, refused = load.upload_all(files, port=web_port, token=token,
                                    clients=args.clients, spread_s=args.duration)
    stop.set()
    monkey.join()
    fleet.recover()
    calm = time.time()
    ids = [ack.activity_id for ack in acks]
    converged_at = _wait_for_convergence(db_url, ids, versions, timeout=args.timeout)
    report = _report(db_url, fleet, acks, refused, versions, started=started, calm=calm,
                     converged_at=converged_at, uploads=len(files))
    return {**report, **subscriber.wait(hooks, ids, timeout=args.timeout)}


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="./cairn chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=float, default=60,
                        help="seconds over which uploads are spread and faults done")
    parser.add_argument("--q2-workers", type=int, default=3)
    parser.add_argument("--sweepers", type=int, default=2)
    parser.add_argument("--lease", type=int, default=10, help="CAIRN_LEASE_S for the run")
    parser.add_argument("--timeout", type=float, default=600,
                        help="seconds to wait for convergence after the chaos")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default="cairn_chaos")
    parser.add_argument("--no-postgres-restart", action="store_true")
    parser.add_argument("--storage", choices=("s3", "fs"), default="s3",
                        help="s3 (default): two hosts with no shared disk and a SeaweedFS "
                             "that is restarted mid-run; fs: one host, originals on its disk")
    parser.add_argument("--json", help="write the figures to this file too")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if anything was lost, duplicated or processed twice at once")
    return parser.parse_args()


def _recreate_database(server: str, name: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _monkey(fleet: Fleet, stop: threading.Event, args: argparse.Namespace) -> None:
    """Until the uploads are all acknowledged: a fault every 0.5 to 3 s. PostgreSQL (the
    run's own cluster) is restarted once, 40 % of the way in; the object store once, 70 %
    of the way in."""
    rng = random.Random(args.seed)
    now = time.monotonic()
    once = {}
    if not args.no_postgres_restart:
        once[now + 0.4 * args.duration] = ("PostgreSQL", fleet.restart_postgres)
    if fleet.store is not None:
        once[now + 0.7 * args.duration] = ("the object store", fleet.restart_store)
    while not stop.wait(rng.uniform(0.5, 3.0)):
        due = [at for at in once if time.monotonic() > at]
        if due:
            what, restart = once.pop(min(due))
            print(f"chaos: restarting {what}", flush=True)
            began = time.monotonic()
            if _harness(fleet, f"restarting {what}", restart):
                print(f"chaos: {what} back in {time.monotonic() - began:.1f} s", flush=True)
            fleet.restarts.append(what)
            continue
        roll = rng.random()
        if roll < 0.6:
            _harness(fleet, "killing a lease holder", _kill_a_lease_holder, fleet, rng)
        elif roll < 0.75:
            _harness(fleet, "killing a sweeper", fleet.kill_sweeper,
                     rng.randrange(fleet.sweepers))
        elif roll < 0.85:
            _harness(fleet, "killing the q2 cluster", fleet.kill_cluster)
        else:
            _harness(fleet, "taking the broker away", fleet.broker_away, rng.uniform(1.0, 4.0))
        _harness(fleet, "reviving the workers", fleet.revive)


def _harness(fleet: Fleet, what: str, fault, *args) -> bool:
    """Do one fault. One the harness itself fails at (a server that did not come back in
    time on a loaded machine) is reported and the run goes on: an exception would end the
    fault thread silently and leave the fleet broken, and the run would then read as
    Cairn losing work. fleet.recover() brings everything back after the chaos."""
    try:
        fault(*args)
    except Exception as error:  # noqa: BLE001 (any failure of the harness, reported)
        fleet.harness_errors.append(f"{what}: {type(error).__name__}: {error}")
        print(f"chaos: harness: {what} failed: {error}", flush=True)
        return False
    return True


def _kill_a_lease_holder(fleet: Fleet, rng: random.Random) -> None:
    """SIGKILL a worker that holds a lease right now (mid-file), else any worker."""
    workers = fleet.worker_pids()
    try:
        with psycopg.connect(fleet.env["DATABASE_URL"], connect_timeout=2) as conn:
            owners = [row[0] for row in conn.execute(
                "SELECT DISTINCT lease_owner FROM activities_activity "
                "WHERE lease_token IS NOT NULL")]
    except psycopg.Error:
        owners = []
    holders = [int(owner.rsplit(":", 1)[1]) for owner in owners if ":" in owner]
    holders = [pid for pid in holders if pid in workers]
    if holders or workers:
        pid = rng.choice(holders or sorted(workers))
        fleet.kill(pid, workers[pid])


def _wait_for_convergence(db_url: str, ids: list[int], versions: dict[str, int], *,
                          timeout: float) -> float | None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with psycopg.connect(db_url, connect_timeout=2) as conn:
                if not verdict.not_converged(conn, ids, versions):
                    return time.time()
        except psycopg.Error:
            pass
        time.sleep(0.5)
    return None


def _report(db_url: str, fleet: Fleet, acks: list[load.Ack], refused: list[str],
            versions: dict[str, int], *, started: float, calm: float,
            converged_at: float | None, uploads: int) -> dict:
    ids = sorted({ack.activity_id for ack in acks})
    with psycopg.connect(db_url) as conn:
        lost = verdict.not_converged(conn, ids, versions)
        intervals = verdict.lease_intervals(conn)
        activities = conn.execute("SELECT count(*) FROM activities_activity").fetchone()[0]
        # Reads of originals that found the object store away (waited, not counted).
        store_failures = conn.execute(
            "SELECT count(*) FROM work_attempt WHERE kind = 'activity' "
            "AND error_code = 'StorageUnavailable'").fetchone()[0]
        ready = verdict.ready_at(conn, ids)
    # Freshness while workers were being killed: from each 202 during the chaos to the
    # activity's first ready (the objective's measure, README "Operating Cairn").
    waits = [ready[ack.activity_id] - ack.at for ack in acks
             if ack.at < calm and ack.activity_id in ready]
    rescues = verdict.rescues(intervals, fleet.kills)
    return {
        "uploads": uploads,
        "acknowledged": len(acks),
        "refused": refused,
        # Every file is distinct, so every acknowledgement names its own activity.
        "deduplicated": len(acks) - len(ids),
        "at_current_versions": len(ids) - len(lost),
        "lost": len(lost),
        "lost_ids": lost[:20],
        "duplicates": activities - len(ids),
        "overlapping": len(verdict.overlaps(intervals)),
        "attempts": len(intervals),
        "orphaned_attempts": sum(1 for i in intervals if not i.finished),
        "kills": len(fleet.kills),
        "kills_by_kind": _count(k.what for k in fleet.kills),
        "slowest_orphan_rescue_s": round(max(rescues), 2) if rescues else None,
        "orphan_rescue_p50_s": _percentile(rescues, 50),
        "orphan_rescue_p95_s": _percentile(rescues, 95),
        "orphan_rescues": len(rescues),
        "upload_retries": sum(ack.tries - 1 for ack in acks),
        "ready_during_chaos_p50_s": _percentile(waits, 50),
        "ready_during_chaos_p99_s": _percentile(waits, 99),
        "ready_during_chaos_within_5s": (f"{sum(w <= 5 for w in waits) / len(waits):.1%}"
                                         if waits else None),
        "chaos_s": round(calm - started, 1),
        "converge_after_chaos_s": round(converged_at - calm, 1) if converged_at else None,
        "lease_s": int(fleet.env["CAIRN_LEASE_S"]),
        "restarts": fleet.restarts,
        "harness_errors": fleet.harness_errors,
        "converged": converged_at is not None,
        "attempts_failed_on_storage": store_failures,
    }


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))], 2)


def _count(items) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def _print(report: dict) -> None:
    width = max(len(key) for key in report)
    for key, value in report.items():
        print(f"{key:>{width}}  {value}")


if __name__ == "__main__":
    sys.exit(main())
