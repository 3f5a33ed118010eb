"""A file that kills its worker every time (the OOM killer, a crash in a decoder): a real
`reconcile --loop` process is SIGKILLed whenever it holds the poison activity, and a new
one started, as a process manager would. The poison ends dead within CAIRN_MAX_ATTEMPTS
deaths, with a sentence saying so, and every other activity converges."""

import re
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from activities import ingest
from activities.models import Activity
from reconciler.derivation import explain
from reconciler.operations import drift
from tests import factories
from tests.conftest import subprocess_env
from work.models import Attempt

REPO = Path(__file__).resolve().parents[2]
MAX_ATTEMPTS = 3
OTHERS = 7
SENTENCE = re.compile(
    r"The worker processing this file stopped 3 times before finishing \(last at "
    r"\d\d:\d\d:\d\d UTC\); it will not be tried again until it is re-synced\.")


def _worker() -> subprocess.Popen:
    # Batches of 4, so that the poison shares its first lease with other activities.
    return subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", "--loop", "--interval", "0.2",
         "--batch", "4"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=subprocess_env(CAIRN_LEASE_S="5", CAIRN_CLOCK="local",
                           CAIRN_MAX_ATTEMPTS=str(MAX_ATTEMPTS)))


def _lease_runs_out(identity: str) -> None:
    """What waiting one lease period would do, without the wait: every lease the killed
    worker held (and its attempts' lease intervals) ends a second ago."""
    ended = timezone.now() - timedelta(seconds=1)
    Activity.objects.filter(lease_owner=identity).update(lease_expires_at=ended,
                                                         due_at=ended)
    Attempt.objects.filter(worker=identity, ended_at=None).update(held_until=ended)


def _settled(ids: list[int]) -> bool:
    return not Activity.objects.filter(id__in=ids).exclude(
        status__in=["ready", "dead", "failed"], lease_token__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_file_that_kills_its_worker_ends_dead_and_the_rest_converge(user, settings):
    settings.CAIRN_MAX_ATTEMPTS = MAX_ATTEMPTS
    others = [ingest.accept(factories.gpx(points=120, seed=700 + i), owner=user,
                            original_name=f"{i}.gpx").activity.id for i in range(OTHERS)]
    # Large enough that it is held for a good while: the kill lands while it is held.
    poison = ingest.accept(factories.fit(points=200_000), owner=user,
                           original_name="poison.fit").activity.id
    Activity.objects.filter(id=poison).update(pending_since=timezone.now()
                                              - timedelta(seconds=1))  # in the first batch
    everyone = [*others, poison]
    deaths = 0
    worker = _worker()
    deadline = time.monotonic() + 120
    try:
        while not _settled(everyone):
            assert time.monotonic() < deadline, "timed out with work still pending"
            assert deaths <= MAX_ATTEMPTS + 2, f"still not dead after {deaths} worker deaths"
            identity = f"{socket.gethostname()}:{worker.pid}"
            # Mid-file: its attempt has started (it derives the poison first).
            if Attempt.objects.filter(kind="activity", row_id=poison, worker=identity,
                                      ended_at=None).exists():
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                deaths += 1
                _lease_runs_out(identity)
                worker = _worker()
            time.sleep(0.005)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()

    activity = Activity.objects.get(id=poison)
    assert activity.status == Activity.Status.DEAD
    assert activity.error_code == "WorkerDied"
    assert SENTENCE.fullmatch(activity.error_message), activity.error_message
    assert deaths == MAX_ATTEMPTS
    assert list(Activity.objects.filter(id__in=others).values_list("status", flat=True)
                ) == ["ready"] * OTHERS
    # Its batch-mates lost one lease each at most: the poison's later leases were alone.
    lost = Attempt.objects.filter(outcome=Attempt.Outcome.WORKER_DIED).exclude(
        row_id=poison)
    assert len(lost) <= 3
    assert len(set(lost.values_list("row_id", flat=True))) == len(lost)
    # The dead letter shows where dead letters show.
    assert drift.count(now=timezone.now())["dead"] == 1
    outcomes = [a["outcome"] for a in explain.timeline(activity)]
    assert outcomes == ["worker_died"] * MAX_ATTEMPTS
