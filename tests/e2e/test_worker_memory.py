"""Workers cap their own memory (CAIRN_WORKER_MEMORY_MB): a file that needs more than that
to decode fails alone with OutOfMemory, and the worker goes on with the others. The file:
a gzipped GPX whose <desc> inflates to 450 MB of text (not whitespace, which is squeezed
out as it inflates), within the upload's inflation limit; decoding it uncapped takes
about three times that."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from activities import ingest
from activities.models import Activity
from tests import factories, gzipcraft
from tests.conftest import subprocess_env

REPO = Path(__file__).resolve().parents[2]
CAP_MB = 600


def _limits(pid: int) -> str:
    return next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
                if line.startswith("Max address space"))


@pytest.mark.django_db(transaction=True)
def test_a_file_needing_more_than_the_cap_fails_alone_and_the_worker_goes_on(user):
    plain = factories.gpx(points=120, seed=11)
    at = plain.index(b"<trk>") + len(b"<trk>")
    heavy = gzipcraft.filled([plain[:at] + b"<desc>", b"</desc>" + plain[at:]], mb=450,
                             fill=b"a")
    hungry = ingest.accept(heavy, owner=user, original_name="heavy.gpx.gz").activity.id
    others = [ingest.accept(factories.gpx(points=120, seed=900 + n), owner=user,
                            original_name=f"{n}.gpx").activity.id for n in range(3)]
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", "--loop", "--interval", "0.2"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=subprocess_env(CAIRN_WORKER_MEMORY_MB=str(CAP_MB)))
    try:
        deadline = time.monotonic() + 240
        while Activity.objects.filter(id__in=[hungry, *others]).exclude(
                status__in=["ready", "failed", "dead"]).exists():
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            assert time.monotonic() < deadline, "timed out with work pending"
            time.sleep(0.5)
        assert f"{CAP_MB * 2**20}" in _limits(worker.pid)
        assert worker.poll() is None  # still sweeping
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    failed = Activity.objects.get(id=hungry)
    assert failed.status == "failed" and failed.error_code == "OutOfMemory", \
        (failed.status, failed.error_code, failed.error_message)
    assert set(Activity.objects.filter(id__in=others).values_list("status", flat=True)) \
        == {"ready"}
