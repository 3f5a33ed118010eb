"""Benchmark a: how fast an upload is acknowledged, beside two floors in the same run
(bench/floor.py): a bare Django view that inserts one row, and a durable floor that also
parses the multipart body and stores the file durably as the configured store does.
gunicorn with 2 workers on PostgreSQL, 32 clients posting ~100 KB FIT files for 30 s,
each round alternating floor, durable floor and upload; then rounds at 8 clients.

Production defaults otherwise: info logs, multiprocess metrics, the nudge to Redis (from
each worker's queue, after the answer), the original fsync'd before the row commits. No
worker runs, so that processing does not take the cores from the web: this measures the
acknowledgement alone.

Then the stores of originals side by side, at 8 clients: the filesystem (fsync'd) and an
S3 object store (a SeaweedFS started here on loopback: one look and a verified PUT per new
file), two sites up at once, their loads alternating, each beside its durable floor."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import redis

from bench.floor import TABLE_SQL
from bench.harness import REPO, Figure, Site, percentile
from tests.ports import free_port
from tests.seaweed import Weed

REDIS_URL = "redis://127.0.0.1:6379/7"  # a database of its own, emptied after


#: The loads of the main site: (name, clients). The upload is judged at both sizes.
LOADS = (("floor", 32), ("durable", 32), ("upload", 32), ("durable", 8), ("upload", 8))


def run(*, quick: bool) -> list[Figure]:
    seconds, runs = (3, 1) if quick else (30, 3)
    site = Site("ack", extra_env={"CAIRN_BROKER": "redis", "REDIS_URL": REDIS_URL,
                                  "CAIRN_LOG_LEVEL": "info"})
    results: dict[tuple[str, int], list[dict]] = {load: [] for load in LOADS}
    try:
        site.query(TABLE_SQL)
        metrics_dir = site.data_dir / "prometheus"
        metrics_dir.mkdir()
        port = free_port()
        site.web(port, workers=2, settings="bench.settings",
                 env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
        # Warm all up (imports, connections, prepared statements); not counted.
        warm = [_load(site, port, name, seconds=2) for name in ("floor", "durable", "upload")]
        for _ in range(runs):
            for name, clients in LOADS:
                results[name, clients].append(
                    _load(site, port, name, seconds=seconds, clients=clients))
        stored = site.query("SELECT count(*) FROM activities_activity")[0][0]
    finally:
        site.stop()
        redis.Redis.from_url(REDIS_URL).flushdb()
    acknowledged = sum(len(r["latencies_ms"]) for r in [
        warm[2], *(r for (name, _), rs in results.items() if name == "upload" for r in rs)])
    if stored != acknowledged:  # every file is distinct: each acknowledgement is a new row
        raise RuntimeError(f"{acknowledged} uploads acknowledged but {stored} stored")
    return _figures(results) + _stores(seconds=seconds, runs=runs)


STORE_CLIENTS = 8


def _stores(*, seconds: float, runs: int) -> list[Figure]:
    """Upload acknowledgement with originals on the filesystem and on S3, at 8 clients."""
    weed = Weed(Path(tempfile.mkdtemp(prefix="cairn-bench-weed-"))).start()
    sites: dict[str, tuple[Site, int]] = {}
    results: dict[str, list[dict]] = {"fs": [], "s3": []}
    floors: dict[str, list[dict]] = {"fs": [], "s3": []}
    try:
        for store in results:
            env = {"CAIRN_BROKER": "redis", "REDIS_URL": REDIS_URL, "CAIRN_LOG_LEVEL": "info",
                   **(weed.env(prefix=f"bench-{store}") if store == "s3" else {})}
            site, port = Site(f"ack_{store}", extra_env=env), free_port()
            sites[store] = (site, port)
            site.query(TABLE_SQL)
            site.web(port, workers=2, settings="bench.settings")
        for site, port in sites.values():  # warm-up, not counted
            for name in ("durable", "upload"):
                _load(site, port, name, seconds=2, clients=STORE_CLIENTS)
        for _ in range(runs):
            for store, (site, port) in sites.items():
                floors[store].append(_load(site, port, "durable", seconds=seconds,
                                           clients=STORE_CLIENTS))
                results[store].append(_load(site, port, "upload", seconds=seconds,
                                            clients=STORE_CLIENTS))
        for store, (site, _) in sites.items():
            on_disk = any((site.data_dir / "files").rglob("*.fit"))
            if on_disk != (store == "fs"):
                raise RuntimeError(f"{store}: originals on the local disk: {on_disk}")
    finally:
        for site, _ in sites.values():
            site.stop()
        weed.stop()
        shutil.rmtree(weed.directory, ignore_errors=True)
        redis.Redis.from_url(REDIS_URL).flushdb()
    figures = []
    for store, label in (("fs", "filesystem"), ("s3", "S3 (SeaweedFS)")):
        for q in (50, 99):
            figures.append(Figure(
                f"durable floor, originals on {label}, {STORE_CLIENTS} clients: p{q}", "ms",
                tuple(percentile(r["latencies_ms"], q) for r in floors[store])))
            figures.append(Figure(
                f"upload ack, originals on {label}, {STORE_CLIENTS} clients: p{q}", "ms",
                tuple(percentile(r["latencies_ms"], q) for r in results[store])))
        for what, runs_of in (("durable floor", floors), ("upload ack", results)):
            figures.append(Figure(
                f"{what}, originals on {label}, {STORE_CLIENTS} clients: throughput",
                "requests/s",
                tuple(len(r["latencies_ms"]) / r["seconds"] for r in runs_of[store])))
    return figures


_loads = itertools.count()


def _load(site: Site, port: int, name: str, *, seconds: float, clients: int = 32) -> dict:
    path, expect = {"floor": ("/bench/floor", 201), "durable": ("/bench/durable-floor", 201),
                    "upload": ("/api/v1/uploads", 202)}[name]
    first = next(_loads) * 10_000_000  # every load sends files no other load sent
    out = subprocess.run(
        [sys.executable, "-m", "bench.ack_client", "--port", str(port), "--path", path,
         "--token", site.token, "--expect", str(expect), "--seconds", str(seconds),
         "--first", str(first), "--clients", str(clients)],
        cwd=REPO, env=site.env, capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    if result["wrong"]:
        raise RuntimeError(f"{name}: {len(result['wrong'])} answers were not {expect}: "
                           f"{sorted(set(result['wrong']))}")
    return result


LABELS = {"floor": "floor (bare view, one row)",
          "durable": "durable floor (multipart, original stored durably, one row)",
          "upload": "upload ack"}


def _figures(results: dict[tuple[str, int], list[dict]]) -> list[Figure]:
    def per_run(load: tuple[str, int], what) -> tuple[float, ...]:
        return tuple(what(r) for r in results[load])

    def pct(q: float):
        return lambda r: percentile(r["latencies_ms"], q)

    def rate(r: dict) -> float:
        return len(r["latencies_ms"]) / r["seconds"]

    def ratio(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
        return tuple(x / y for x, y in zip(a, b, strict=True))

    figures = []
    for name, clients in LOADS:
        label = f"{LABELS[name]}, {clients} clients"
        for q in (50, 95, 99):
            p = per_run((name, clients), pct(q))
            if (name, clients, q) == ("upload", 8, 99):
                figures.append(Figure(f"{label}: p99", "ms", p, target="≤ 50 ms on fs",
                                      met=max(p) <= 50))
            else:
                figures.append(Figure(f"{label}: p{q}", "ms", p))
        figures.append(Figure(f"{label}: throughput", "requests/s",
                              per_run((name, clients), rate)))
    upload, durable, bare = ("upload", 32), ("durable", 32), ("floor", 32)
    p99 = ratio(per_run(upload, pct(99)), per_run(durable, pct(99)))
    figures.append(Figure("upload ack p99 over the durable floor's p99, 32 clients", "×", p99,
                          target="≤ 1.5×", met=max(p99) <= 1.5))
    rates = ratio(per_run(upload, rate), per_run(durable, rate))
    figures.append(Figure("upload ack throughput over the durable floor's, 32 clients", "×",
                          rates, target="≥ 0.67×", met=min(rates) >= 0.67))
    figures.append(Figure("upload ack p99 over the bare floor's p99, 32 clients", "×",
                          ratio(per_run(upload, pct(99)), per_run(bare, pct(99)))))
    return figures
