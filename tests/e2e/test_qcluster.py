"""A real django-q2 cluster picks up the nudge and makes an upload ready within seconds."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.models import Schedule

from activities.models import Activity
from tests import factories
from tests.conftest import subprocess_env
from work.models import Attempt

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def cluster(transactional_db):
    # Without the sweep schedule, only the nudge can make the activity ready.
    Schedule.objects.all().delete()
    process = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=REPO,
                               env=subprocess_env(CAIRN_CLOCK="database", CAIRN_WORKERS="1"),
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    yield process
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.django_db(transaction=True)
def test_nudge_reaches_a_real_cluster_and_the_upload_becomes_ready(api, cluster):
    response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    assert response.status_code == 202
    activity_id = response.json()["activity_id"]
    deadline = time.monotonic() + 60
    status = None
    while time.monotonic() < deadline:
        status = Activity.objects.values_list("status", flat=True).get(id=activity_id)
        if status == Activity.Status.READY:
            break
        assert cluster.poll() is None, cluster.stdout.read().decode()[-3000:]
        time.sleep(0.2)
    if status != Activity.Status.READY:
        cluster.send_signal(signal.SIGTERM)
        pytest.fail(f"still {status}; cluster said:\n{cluster.communicate()[0].decode()[-3000:]}")
    triggers = list(Attempt.objects.filter(kind="activity", row_id=activity_id)
                    .values_list("trigger", flat=True))
    assert triggers == [Attempt.Trigger.NUDGE]
