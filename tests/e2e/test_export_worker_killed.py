"""A worker SIGKILLed half-way through a bulk export: the sweep takes the orphan over,
resumes from the checkpoint and finishes a complete zip with each activity once."""

import csv
import io
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from activities import ingest
from exports import requests
from exports.models import Export
from reconciler import sweep
from tests import factories
from tests.conftest import subprocess_env
from work.models import Attempt

REPO = Path(__file__).resolve().parents[2]
ACTIVITIES = 60


def _sweeper() -> subprocess.Popen:
    # One activity per step, so that the kill lands with most of the export still to do.
    return subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", "--loop", "--interval", "0.3"], cwd=REPO,
        env=subprocess_env(CAIRN_LEASE_S="5", CAIRN_CLOCK="local", CAIRN_EXPORT_CHUNK="1"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _done(export_id: int) -> int:
    return Export.objects.filter(id=export_id).values_list("done", flat=True).get()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only(reason="a worker process and the test share the database")
def test_an_export_survives_its_worker_killed_half_way(user):
    made = [ingest.accept(factories.fit(points=900, seed=300 + n), owner=user,
                          original_name=f"ride-{n}.fit").activity.id
            for n in range(ACTIVITIES)]
    sweep.drain()
    export = requests.start(user, contents="both", fmt="gpx")

    doomed = _sweeper()
    try:
        _wait_for(lambda: _done(export.id) >= 5, timeout=60, what="the build to start")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    finally:
        if doomed.poll() is None:
            doomed.kill()
    cut = _done(export.id)
    assert 0 < cut < ACTIVITIES, "the worker finished the export before the kill"
    assert Export.objects.get(id=export.id).lease_token is not None, "killed holding it"

    rescuer = _sweeper()
    try:
        _wait_for(lambda: Export.objects.get(id=export.id).status == "ready",
                  timeout=120, what="the export to be ready")
    finally:
        rescuer.send_signal(signal.SIGTERM)
        rescuer.wait(timeout=30)

    row = Export.objects.get(id=export.id)
    assert (row.done, row.total) == (ACTIVITIES, ACTIVITIES)
    attempts = list(Attempt.objects.filter(kind="export", row_id=export.id)
                    .order_by("started_at"))
    assert attempts[0].outcome == "worker_died"
    # The rescue went on from the checkpoint the killed worker left, not from the start.
    assert attempts[1].detail["resumed_from"] >= cut > 0
    with default_storage.open(row.file_name, "rb") as handle:
        zipped = zipfile.ZipFile(io.BytesIO(handle.read()))
    assert zipped.testzip() is None
    names = zipped.namelist()
    assert len(names) == len(set(names)) == 1 + 2 * ACTIVITIES
    rows = list(csv.DictReader(io.StringIO(zipped.read("activities.csv").decode())))
    assert [int(r["id"]) for r in rows] == made
    for r in rows:
        assert r["original_file"] in names and r["file"] in names
