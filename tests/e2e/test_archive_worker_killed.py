"""A worker killed mid-archive: another finishes it, every file accounted for once; the
same archive uploaded again imports nothing."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from activities import zips
from activities.models import Activity, Archive, ArchiveMember
from tests import factories
from tests.conftest import subprocess_env

REPO = Path(__file__).resolve().parents[2]
# CI runs it small; CAIRN_ARCHIVE_FILES=500 gives the figures for a real export.
FILES = int(os.environ.get("CAIRN_ARCHIVE_FILES", "120"))


def _sweeper() -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", "--loop", "--interval", "0.3"], cwd=REPO,
        env=subprocess_env(CAIRN_LEASE_S="5", CAIRN_CLOCK="local"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(predicate, *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_archive_survives_a_killed_worker_and_a_second_import(user, tmp_path, capsys):
    data = factories.archive([(f"activities/{i}.gpx", factories.gpx(points=200, seed=5000 + i))
                              for i in range(FILES)])
    path = tmp_path / "export.zip"
    path.write_bytes(data)
    with open(path, "rb") as handle:
        upload = zips.accept(handle, owner=user, original_name="export.zip").upload
    archive = Archive.objects.get(upload=upload)

    doomed = _sweeper()
    try:
        _wait_for(lambda: ArchiveMember.objects.filter(archive=archive).count() >= 10,
                  timeout=60, what="the expansion to start")
        doomed.send_signal(signal.SIGKILL)
        doomed.wait()
    finally:
        if doomed.poll() is None:
            doomed.kill()
    cut = ArchiveMember.objects.filter(archive=archive).count()
    assert cut < FILES, "the worker finished the archive before the kill"

    rescuers = [_sweeper(), _sweeper()]
    started = time.monotonic()
    try:
        _wait_for(lambda: Activity.objects.filter(status="ready").count() == FILES,
                  timeout=60 + FILES, what="every activity to be ready")
    finally:
        for rescuer in rescuers:
            rescuer.send_signal(signal.SIGTERM)
            rescuer.wait(timeout=30)
    took = time.monotonic() - started
    with capsys.disabled():
        print(f"\narchive: {FILES - cut} files after the kill imported and ready in "
              f"{took:.1f} s by two sweepers ({(FILES - cut) / took:.0f} activities/s)")

    archive.refresh_from_db()
    assert archive.expanded_at is not None
    indexes = list(ArchiveMember.objects.filter(archive=archive).order_by("index")
                   .values_list("index", flat=True))
    assert indexes == list(range(FILES))
    assert set(ArchiveMember.objects.values_list("status", flat=True)) == {"imported"}
    assert Activity.objects.count() == FILES

    with open(path, "rb") as handle:  # the same export again
        again = zips.accept(handle, owner=user, original_name="export.zip")
    assert again.upload.id == upload.id and not again.created
    assert Activity.objects.count() == FILES
