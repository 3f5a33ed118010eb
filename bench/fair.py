"""Benchmark h: fair among users. User A uploads an archive of N files; while two sweepers
expand it and process its activities, user B uploads one file at a time: how long each
of B's uploads takes to be ready, and how long A's whole archive takes.

Nudges are off (CAIRN_NUDGE_QUEUE=0): every file reaches its worker through the sweep's
claim, the path whose order is measured. CAIRN_BENCH_FAIR_FILES sets N (default 2,000;
--quick: 200); B uploads CAIRN_BENCH_FAIR_UPLOADS files (default 20; --quick: 3), one
every half second after the last is ready, as long as A's archive is not done.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime, timedelta

import psycopg

from bench.harness import SERVER, Figure, Site, percentile, post_file, upload_status, wait_until
from tests import factories
from tests.ports import free_port

#: A's files begin here, a minute apart (distinct bytes: no file folds into another).
START = datetime(2024, 1, 1, 6, tzinfo=UTC)


def run(*, quick: bool) -> list[Figure]:
    files = int(os.environ.get("CAIRN_BENCH_FAIR_FILES") or (200 if quick else 2_000))
    uploads = int(os.environ.get("CAIRN_BENCH_FAIR_UPLOADS") or (3 if quick else 20))
    archive = factories.archive([(f"export/{i:05d}.gpx",
                                  factories.gpx(points=60, start=START + timedelta(minutes=i)))
                                 for i in range(files)])
    site = Site("fair", extra_env={"CAIRN_NUDGE_QUEUE": "0"})
    try:
        token_b = site.manage("create_api_token", "bench-b", "--create-user").strip()
        port = free_port()
        site.web(port, workers=1)
        site.sweepers(2)
        started = time.monotonic()
        post_file(port, site.token, archive, name="export.zip")
        # B starts once A's backlog is there: a tenth of the archive expanded.
        wait_until(lambda: _of(site, "bench") >= files // 10, what="A's archive expanding",
                   timeout=600, every=0.2)
        waits, backlog = [], []
        for index in range(uploads):
            if _pending(site, "bench") == 0 and _of(site, "bench") >= files:
                break  # A is done: what B sees now is no longer "meanwhile"
            backlog.append(_pending(site, "bench"))
            data = factories.fit(points=600, seed=700_000 + index)
            sent = time.monotonic()
            upload = post_file(port, token_b, data, name=f"b{index}.fit")
            wait_until(lambda upload_id=upload["id"]: upload_status(port, token_b, upload_id)
                       == "ready", what="B's upload", timeout=1800, every=0.05)
            waits.append(time.monotonic() - sent)
            time.sleep(0.5)
        wait_until(lambda: _of(site, "bench") >= files and _pending(site, "bench") == 0,
                   what="A's archive processed", timeout=7200, every=0.5)
        whole = time.monotonic() - started
    finally:
        site.stop()
        _drop(site)
    print(f"B's uploads: {', '.join(f'{w:.2f}' for w in waits)} s; A's activities still "
          f"pending when each was sent: {backlog}")
    return [
        Figure(f"B's upload to ready while A's {files:,}-file archive is processed, p50",
               "s", (percentile(waits, 50),)),
        Figure(f"B's upload to ready while A's {files:,}-file archive is processed, p99",
               "s", (percentile(waits, 99),)),
        Figure("B's uploads measured", "uploads", (float(len(waits)),)),
        Figure("A's activities pending when B uploaded, median", "activities",
               (float(sorted(backlog)[len(backlog) // 2]) if backlog else 0.0,)),
        Figure(f"A's {files:,}-file archive: upload to all processed", "s", (whole,)),
    ]


def _of(site: Site, username: str) -> int:
    """A user's activities so far."""
    return site.query("SELECT count(*) FROM activities_activity a JOIN auth_user u ON "
                      "u.id = a.owner_id WHERE u.username = %s", [username])[0][0]


def _pending(site: Site, username: str) -> int:
    """A user's activities that still need work."""
    return site.query("SELECT count(*) FROM activities_activity a JOIN auth_user u ON "
                      "u.id = a.owner_id WHERE u.username = %s AND a.needs_work",
                      [username])[0][0]


def _drop(site: Site) -> None:
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{site.database}" WITH (FORCE)')
    shutil.rmtree(site.data_dir, ignore_errors=True)
