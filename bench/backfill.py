"""Benchmark c: a `summary` bump over N processed activities rebuilt by two workers:
activities per second, and how soon a fresh upload is ready meanwhile."""

from __future__ import annotations

import threading
import time

from bench.harness import (
    Figure,
    Site,
    fill_processed,
    percentile,
    post_file,
    upload_status,
    wait_until,
)
from core import derivers
from tests import factories
from tests.ports import free_port


def run(*, quick: bool) -> list[Figure]:
    size = 3_000 if quick else 100_000
    site = Site("backfill")
    try:
        _fill(site, size)
        port = free_port()
        site.web(port, workers=1)
        rates, fresh = [], []
        for _ in range(1 if quick else 2):
            _bump(site)
            started = time.monotonic()
            site.sweepers(2, batch=50)
            uploader = threading.Thread(target=lambda: fresh.extend(
                _fresh_uploads(site, port, count=3 if quick else 5)))
            time.sleep(0.5)
            uploader.start()
            wait_until(lambda: _behind(site) == 0, what="backfill", timeout=3600, every=0.2)
            rates.append(size / (time.monotonic() - started))
            uploader.join()
            _stop_sweepers(site)
    finally:
        site.stop()
    return [
        Figure(f"backfill of a summary bump over {size:,} activities, 2 workers",
               "activities/s", tuple(rates), target="≥ 1,000/s", met=min(rates) >= 1000),
        Figure("fresh upload ready during the backfill (upload to ready)", "s", tuple(fresh),
               target="≤ 2 s", met=max(fresh) <= 2),
        Figure("fresh upload ready during the backfill, p95", "s",
               (percentile(fresh, 95),)),
    ]


def _fill(site: Site, size: int) -> None:
    """`size` processed one-hour activities: a real track and summary, current outputs."""
    track_deriver, summary = derivers.BY_NAME["track"], derivers.BY_NAME["summary"]
    track = track_deriver.derive(factories.fit(points=3600, seed=11))
    fill_processed(site, size, data={"track": track_deriver.codec.dumps(track),
                                     "summary": summary.codec.dumps(summary.derive(track))})


def _bump(site: Site) -> None:
    """As a deploy of a new summary version would leave things: every stored summary older
    than the code, and a rollout to begin."""
    version = derivers.BY_NAME["summary"].version
    site.query("UPDATE activities_derived SET version = %s WHERE deriver = 'summary'",
               [version - 1])
    site.query("DELETE FROM reconciler_rollout WHERE deriver = 'summary'")


def _behind(site: Site) -> int:
    return site.query("SELECT count(*) FROM activities_derived WHERE deriver = 'summary' "
                      "AND version < %s", [derivers.BY_NAME["summary"].version])[0][0]


def _stop_sweepers(site: Site) -> None:
    web = site.processes[0]
    site.processes.remove(web)
    site.stop()
    site.processes.append(web)


def _fresh_uploads(site: Site, port: int, *, count: int) -> list[float]:
    times = []
    for index in range(count):
        data = factories.fit(points=3600, seed=500_000 + index + int(time.time()) % 100_000)
        started = time.monotonic()
        upload = post_file(port, site.token, data)
        wait_until(lambda upload_id=upload["id"]: upload_status(port, site.token, upload_id)
                   == "ready", what="a fresh upload", timeout=120, every=0.02)
        times.append(time.monotonic() - started)
        time.sleep(0.5)
    return times
