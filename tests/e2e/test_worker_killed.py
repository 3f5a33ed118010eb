"""A real worker process is killed with SIGKILL mid-file: its lease runs out, another
sweeper finishes the activity, and the two never held it at once."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from activities import ingest
from activities.models import Activity
from tests import factories
from tests.conftest import subprocess_env
from work.models import Attempt

REPO = Path(__file__).resolve().parents[2]
LEASE_S = 5
INTERVAL_S = 0.5


def _sweeper(**env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", "--loop", "--interval", str(INTERVAL_S)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=subprocess_env(CAIRN_LEASE_S=str(LEASE_S), **env))


def _wait_for(predicate, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.005)
    pytest.fail(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_killed_worker_is_replaced_within_a_lease_and_nothing_overlaps(user):
    clock = "database" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "local"
    # Large enough that even the fast decoder takes a good fraction of a second: the
    # kill, sent the moment the attempt appears, lands mid-file.
    activity = ingest.accept(factories.fit(points=200_000), owner=user,
                             original_name="long.fit").activity
    doomed = _sweeper(CAIRN_CLOCK=clock)
    try:
        started = _wait_for(
            lambda: Attempt.objects.filter(kind="activity", row_id=activity.id).first(),
                            timeout=30, what="the first worker to start")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
        killed_at = timezone.now()
        started.refresh_from_db()
        assert started.outcome == "", "the worker finished before the kill: use a larger file"
    finally:
        if doomed.poll() is None:
            doomed.kill()
    rescuer = _sweeper(CAIRN_CLOCK=clock)
    try:
        _wait_for(lambda: Activity.objects.filter(id=activity.id, status="ready").exists(),
                  timeout=LEASE_S + 60, what="the activity to be rescued")
    finally:
        rescuer.send_signal(signal.SIGTERM)
        rescuer.wait(timeout=30)

    first, second = Attempt.objects.filter(kind="activity", row_id=activity.id).order_by(
        "started_at")
    assert first.id == started.id
    # Died mid-file: closed by the rescuer where its lease ran out.
    assert first.outcome == Attempt.Outcome.WORKER_DIED
    assert first.ended_at == first.held_until
    assert second.outcome == Attempt.Outcome.CONVERGED
    assert second.worker != first.worker
    assert second.started_at >= first.held_until  # never held at once
    rescue_s = (second.started_at - killed_at).total_seconds()
    assert rescue_s <= LEASE_S + INTERVAL_S + 5
