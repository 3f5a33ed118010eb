"""The broker refuses or hangs: the upload still answers 202 at once; the sweep does the work."""

import socket
import threading
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activities.models import Activity
from reconciler import nudges, sweep
from reconciler.operations import metrics
from tests import factories
from tests.ports import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent_broker():
    """A TCP server that accepts connections and never answers: a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


@pytest.fixture
def closed_port():
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens: connections are refused


def _failed_nudges() -> float:
    return metrics.NUDGES.labels(outcome="failed")._value.get()


def _upload_through_broken_broker(api, settings, url, django_capture_on_commit_callbacks):
    settings.CAIRN_BROKER = "redis"
    settings.REDIS_URL = url
    settings.CAIRN_NUDGE_TIMEOUT_S = 0.3
    nudges.BROKERS.reset()
    failed_before = _failed_nudges()
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/uploads",
                            {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    elapsed = time.monotonic() - started
    return response, elapsed, _failed_nudges() - failed_before


@pytest.mark.parametrize("broken", ["closed_port", "silent_broker"])
def test_upload_answers_202_quickly_and_one_sweep_makes_it_ready(
        api, settings, request, broken, django_capture_on_commit_callbacks):
    url = request.getfixturevalue(broken)
    response, elapsed, failures = _upload_through_broken_broker(
        api, settings, url, django_capture_on_commit_callbacks)
    assert response.status_code == 202
    assert elapsed < 1.0
    assert failures == 1
    activity = Activity.objects.get(id=response.json()["activity_id"])
    assert activity.status == Activity.Status.QUEUED
    assert activity.needs_work
    assert sweep.sweep_once().claimed == 1
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY


def test_any_other_broker_failure_is_caught_too(api, monkeypatch,
                                                django_capture_on_commit_callbacks):
    class Exploding:
        list_key = "cairn"

        def enqueue(self, task):
            raise RuntimeError("the broker library itself broke")

    monkeypatch.setattr(nudges, "broker", lambda: Exploding())
    failed_before = _failed_nudges()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/uploads",
                            {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    assert response.status_code == 202
    assert _failed_nudges() - failed_before == 1
    assert Activity.objects.get().needs_work


def test_working_redis_broker_receives_the_nudge(api, redis_broker,
                                                 django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/uploads",
                            {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    assert response.status_code == 202
    assert redis_broker.llen("django_q:cairn:q") == 1
