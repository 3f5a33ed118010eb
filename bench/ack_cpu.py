"""Where the cores go while uploads are acknowledged: benchmark a's site and loads (gunicorn,
2 workers, PostgreSQL, the nudge to Redis, 32 clients), each process's CPU time read from
/proc before and after a load and summed by role, per request answered.

    python -m bench.ack_cpu [--seconds 20]

The load generator runs on the same cores as everything else; its share is shown too, so
that the floor's and the upload's totals compare like with like. Prints one JSON object:
{load: {"requests", "per_request_ms": {role: CPU ms}}}.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
from pathlib import Path

import redis

from bench import upload_ack
from bench.floor import TABLE_SQL
from bench.harness import Site
from tests.ports import free_port

TICK = os.sysconf("SC_CLK_TCK")


def role(pid: int) -> str | None:
    """What a process is here, from its command line (None: not one of the measured)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    line = b" ".join(argv).decode(errors="replace")
    if "gunicorn" in line:
        return "web (gunicorn)"
    if line.startswith("postgres"):
        return "PostgreSQL"
    if "redis-server" in line:
        return "Redis"
    if "bench.ack_client" in line:
        return "load generator"
    return None


def cpu_by_role() -> dict[int, tuple[str, float]]:
    """pid -> (role, CPU seconds used so far) for every measured process."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        name = role(pid)
        if name is None:
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (name, (int(fields[11]) + int(fields[12])) / TICK)  # utime + stime
    return out


def measured(site: Site, port: int, name: str, *, seconds: float) -> dict:
    """One load of benchmark a's, with each role's CPU over it, per request answered."""
    before = cpu_by_role()
    peak: dict[int, tuple[str, float]] = {}

    def sample() -> None:  # the load generator's process ends before `after` is read
        while not done.wait(0.2):
            peak.update(cpu_by_role())

    done = threading.Event()
    sampler = threading.Thread(target=sample)
    sampler.start()
    result = upload_ack._load(site, port, name, seconds=seconds)
    done.set()
    sampler.join()
    after = {**peak, **cpu_by_role()}
    requests = len(result["latencies_ms"])
    used: dict[str, float] = {}
    for pid, (what, seconds_now) in after.items():
        used[what] = used.get(what, 0.0) + seconds_now - before.get(pid, (what, 0.0))[1]
    return {"requests": requests, "per_second": requests / result["seconds"],
            "per_request_ms": {what: round(total * 1000 / requests, 3)
                               for what, total in sorted(used.items())}}


def main() -> dict:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    site = Site("ack_cpu", extra_env={"CAIRN_BROKER": "redis",
                                      "REDIS_URL": upload_ack.REDIS_URL,
                                      "CAIRN_LOG_LEVEL": "info"})
    try:
        site.query(TABLE_SQL)
        metrics_dir = site.data_dir / "prometheus"
        metrics_dir.mkdir()
        port = free_port()
        site.web(port, workers=2, settings="bench.settings",
                 env={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
        for name in ("floor", "durable", "upload"):  # warm-up, not counted
            upload_ack._load(site, port, name, seconds=2)
        return {name: measured(site, port, name, seconds=args.seconds)
                for name in ("durable", "upload")}
    finally:
        site.stop()
        redis.Redis.from_url(upload_ack.REDIS_URL).flushdb()


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
    print(json.dumps(main()))
