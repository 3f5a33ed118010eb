"""Benchmark f: the web server's CPU per MB for a direct (presigned) upload beside a POSTed
one. gunicorn with one worker and originals on S3 (a SeaweedFS started here); N distinct
large GPX files sent each way, the CPU time (user + system, from /proc) of gunicorn's
processes read before and after each batch. No sweeper runs meanwhile: the sweep's own
ingest of the direct uploads is worker CPU, measured apart (the web's share is the point).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.request
from pathlib import Path

import requests

from bench.chaos.fleet import descendants
from bench.harness import Figure, Site, post_file
from tests import factories
from tests.ports import free_port
from tests.seaweed import Weed

_TICK = os.sysconf("SC_CLK_TCK")


def run(*, quick: bool) -> list[Figure]:
    count, points, runs = (2, 20_000, 1) if quick else (5, 80_000, 3)
    weed = Weed(Path(tempfile.mkdtemp(prefix="cairn-bench-weed-"))).start()
    site = Site("direct", extra_env=weed.env(prefix="bench-direct"))
    results: dict[str, list[float]] = {"post": [], "direct": []}
    try:
        port = free_port()
        site.web(port, workers=1)
        web = site.processes[-1].pid
        post_file(port, site.token, factories.gpx(points=100, seed=1))  # warm-up
        seed = 10
        for _ in range(runs):
            for way in results:
                files = [factories.gpx(points=points, seed=(seed := seed + 1))
                         for _ in range(count)]
                megabytes = sum(len(f) for f in files) / 2**20
                before = _cpu_s(web)
                for data in files:
                    (post_file if way == "post" else _direct)(port, site.token, data,
                                                              name=f"{seed}.gpx")
                results[way].append((_cpu_s(web) - before) * 1000 / megabytes)
    finally:
        site.stop()
        weed.stop()
        shutil.rmtree(weed.directory, ignore_errors=True)
    return [Figure("web CPU per MB, POSTed upload", "ms/MB", tuple(results["post"])),
            Figure("web CPU per MB, direct (presigned) upload", "ms/MB",
                   tuple(results["direct"]))]


def _direct(port: int, token: str, data: bytes, *, name: str) -> None:
    base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    opened = urllib.request.Request(
        f"{base}/api/v1/upload-sessions", method="POST",
        data=json.dumps({"filename": name, "size": len(data)}).encode(),
        headers={**auth, "Content-Type": "application/json"})
    with urllib.request.urlopen(opened, timeout=30) as answer:
        session = json.load(answer)
    # requests sends no Content-Type of its own (urllib's default one is not signed, and
    # SeaweedFS then refuses the signature).
    put = requests.put(session["url"], data=data, headers=session["headers"], timeout=60)
    if put.status_code != 200:
        raise RuntimeError(f"the store refused the PUT: {put.content[:500]!r}")
    nudge = urllib.request.Request(f"{base}/api/v1/upload-sessions/{session['id']}/complete",
                                   method="POST", headers=auth)
    with urllib.request.urlopen(nudge, timeout=30):
        pass


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` and every process below it (gunicorn's workers)."""
    total = 0
    for process in (pid, *descendants(pid)):
        try:
            with open(f"/proc/{process}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICK
