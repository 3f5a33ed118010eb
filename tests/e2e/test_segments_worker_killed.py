"""Two sweepers backfilling new segments while fresh uploads arrive, one SIGKILLed in the
middle: the other and a rescuer finish, and every effort is there exactly once (on
exactly the activities that ride each segment)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from reconciler import sweep
from segments import editing
from segments.models import ActivityMatch, Effort, Segment
from tests import segmentrides as rides
from tests.conftest import subprocess_env
from work import clock
from work.models import Attempt

REPO = Path(__file__).resolve().parents[2]


def _sweeper() -> subprocess.Popen:
    # One activity per backfill lease: many leases, so that the kill lands mid-way.
    return subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", "--loop", "--interval", "0.2"], cwd=REPO,
        env=subprocess_env(CAIRN_LEASE_S="5", CAIRN_CLOCK="local",
                           CAIRN_SEGMENTS_BACKFILL_CHUNK="1"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.postgres_only(reason="sweepers in other processes share the database")
@pytest.mark.django_db(transaction=True)
def test_a_sweeper_killed_mid_backfill_leaves_each_effort_once(user):
    passing = {rides.upload(user, rides.ON, speed_mps=5.0 + n / 40, shift_s=3600 * n)
               for n in range(40)}
    for n in range(20):
        rides.upload(user, rides.BESIDE, speed_mps=6.0, shift_s=-3600 * (n + 1))
    sweep.drain()
    road = editing.parse({"name": "Road", "points": rides.road_points()}, owner_id=user.id)
    half = editing.parse({"name": "Half", "points": rides.rides_points([(0, 0), (500, 0)])},
                         owner_id=user.id)
    segments = [editing.create(user, *made, now=clock.now()).id for made in (road, half)]
    sweepers = [_sweeper(), _sweeper()]
    try:
        _wait_for(lambda: Effort.objects.count() >= 10, timeout=60,
                  what="the backfill to start")
        # Fresh uploads while the backfill runs: matched through the cells.
        late = {rides.upload(user, rides.ON, speed_mps=9.0, shift_s=-10**6 - 60 * n)
                for n in range(5)}
        # Killed while it holds a segment's backfill (it holds one most of the time).
        doomed = f":{sweepers[0].pid}"
        _wait_for(lambda: Segment.objects.filter(lease_owner__endswith=doomed).exists(),
                  timeout=60, what="the sweeper to hold a backfill")
        sweepers[0].send_signal(signal.SIGKILL)
        sweepers[0].wait()
        assert Segment.objects.filter(needs_work=True).exists(), "done before the kill"
        held = Segment.objects.filter(lease_owner__endswith=doomed).exists()
        sweepers.append(_sweeper())
        _wait_for(lambda: not Segment.objects.filter(needs_work=True).exists()
                  and not ActivityMatch.objects.filter(needs_work=True).exists()
                  and ActivityMatch.objects.count() == 65,
                  timeout=120, what="every backfill and match to finish")
    finally:
        for process in sweepers:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=30)
    for segment in segments:
        found = list(Effort.objects.filter(segment_id=segment)
                     .values_list("activity_id", "lap"))
        assert sorted(found) == sorted((a, 0) for a in passing | late), segment
    assert Segment.objects.filter(status=Segment.Status.READY).count() == 2
    print(f"\nkilled holding a backfill: {held}")
    if held:  # its lease ran out and was taken over
        assert Attempt.objects.filter(kind="segment", outcome="worker_died").exists()
