"""The nudge leaves after the answer, from a bounded per-process queue: the answer never
waits on the broker, a full queue drops (counted, logged), and the sweep processes what a
dropped nudge would have."""

import subprocess
import sys
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activities.models import Activity
from reconciler import nudge_queue, nudges, sweep
from reconciler.operations import metrics
from tests import factories
from tests.conftest import subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)


class HeldSender:
    """A broker that takes each nudge only when the test lets it."""

    def __init__(self) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.sent: list[int] = []

    def __call__(self, activity_id: int) -> bool:
        self.started.set()
        self.release.wait()
        self.sent.append(activity_id)
        return True


@pytest.fixture
def held(settings, monkeypatch):
    settings.CAIRN_NUDGE_QUEUE = 1
    nudge_queue.QUEUE.reset()
    sender = HeldSender()
    monkeypatch.setattr(nudge_queue.QUEUE, "send", sender)
    yield sender
    sender.release.set()
    nudge_queue.QUEUE.join()
    nudge_queue.QUEUE.reset()


def _post(api):
    response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    assert response.status_code == 202
    return response.json()["activity_id"]


def _dropped() -> float:
    return metrics.NUDGES.labels(outcome="dropped")._value.get()


def test_the_answer_does_not_wait_for_the_nudge(api, held):
    first = _post(api)  # answered while its nudge is still held by the broker
    held.started.wait()
    assert held.sent == []
    held.release.set()
    nudge_queue.QUEUE.join()
    assert held.sent == [first]


def test_a_full_queue_drops_the_nudge_counts_and_logs_it(api, held, caplog):
    before = _dropped()
    _post(api)  # taken by the sender, held
    held.started.wait()
    second = _post(api)  # waits in the queue (size 1)
    third = _post(api)  # no room: dropped
    assert _dropped() - before == 1
    assert any("nudge.dropped" in r.getMessage() and str(third) in r.getMessage()
               for r in caplog.records)
    held.release.set()
    nudge_queue.QUEUE.join()
    assert third not in held.sent and second in held.sent


def test_an_upload_whose_nudge_was_dropped_is_processed_by_the_sweep(api, held):
    _post(api)
    held.started.wait()
    _post(api)
    dropped = _post(api)
    activity = Activity.objects.get(id=dropped)
    assert activity.needs_work and activity.status == Activity.Status.QUEUED
    while sweep.sweep_once().claimed:
        pass
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    assert not activity.needs_work


def test_the_queue_sends_through_the_real_broker(api, settings, redis_broker):
    settings.CAIRN_NUDGE_QUEUE = 10
    nudge_queue.QUEUE.reset()
    sent = metrics.NUDGES.labels(outcome="sent")._value.get()
    try:
        _post(api)
        nudge_queue.QUEUE.join()
        assert metrics.NUDGES.labels(outcome="sent")._value.get() - sent == 1
        assert redis_broker.llen("django_q:cairn:q") == 1
    finally:
        nudge_queue.QUEUE.reset()


def test_a_command_that_exits_sends_what_it_queued_first(user, redis_broker, tmp_path):
    ride = tmp_path / "ride.gpx"
    ride.write_bytes(factories.gpx())
    env = subprocess_env(CAIRN_BROKER="redis", REDIS_URL="redis://127.0.0.1:6379/15",
                         CAIRN_NUDGE_QUEUE="10")
    subprocess.run([sys.executable, "manage.py", "import_activities", str(ride), "--owner",
                    user.username], env=env, check=True, capture_output=True)
    assert redis_broker.llen("django_q:cairn:q") == 1


def test_with_the_inline_fallback_the_nudge_is_sent_in_the_request(api, settings, held):
    # The fallback must know whether the nudge failed before it answers.
    settings.CAIRN_INLINE_FALLBACK = True
    settings.CAIRN_BROKER = "orm"
    nudges.BROKERS.reset()
    sent = metrics.NUDGES.labels(outcome="sent")._value.get()
    _post(api)
    assert metrics.NUDGES.labels(outcome="sent")._value.get() - sent == 1
    assert held.sent == [] and not held.started.is_set()
