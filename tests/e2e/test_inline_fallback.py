"""The queue is down and CAIRN_INLINE_FALLBACK is on: small uploads are processed in the
request, within a time budget, through the same reconcile_one; nothing becomes a 500."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from activities.models import Activity
from core import derivers
from reconciler import nudges, sweep
from reconciler.operations import metrics
from tests import factories
from tests.ports import free_port
from work.models import Attempt

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue_down(settings):
    settings.CAIRN_BROKER = "redis"
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # refused
    settings.CAIRN_INLINE_FALLBACK = True
    settings.CAIRN_INLINE_BUDGET_S = 1.0
    nudges.BROKERS.reset()


def _fallbacks(outcome: str) -> float:
    return metrics.INLINE_FALLBACKS.labels(outcome=outcome)._value.get()


def _post(api, data: bytes):
    started = time.monotonic()
    response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("a.gpx", data)})
    return response, time.monotonic() - started


def test_small_upload_is_ready_in_the_202_itself(api, queue_down):
    before = _fallbacks("converged")
    response, _ = _post(api, factories.gpx())
    assert response.status_code == 202
    assert response.json()["status"] == "ready"
    assert _fallbacks("converged") == before + 1
    [attempt] = Attempt.objects.all()
    assert attempt.trigger == Attempt.Trigger.INLINE


def test_fallback_out_of_time_answers_within_the_budget_and_leaves_the_rest_to_the_sweep(
        api, queue_down, monkeypatch):
    track = derivers.BY_NAME["track"]
    real = track.derive

    def slow(original, edits=None):
        time.sleep(1.5)  # longer than the 1 s budget
        return real(original, edits)

    monkeypatch.setitem(track.__dict__, "derive", slow)
    response, elapsed = _post(api, factories.gpx())
    assert response.status_code == 202
    assert elapsed < 1.4
    assert response.json()["status"] in ("queued", "processing")
    activity = Activity.objects.get(id=response.json()["activity_id"])
    # The thread finishes the deriver in hand, then hands the lease back.
    deadline = time.monotonic() + 10
    while Attempt.objects.filter(outcome="").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    attempt = Attempt.objects.get()
    assert attempt.outcome == Attempt.Outcome.YIELDED
    assert attempt.detail["derivers"] == ["track"]
    monkeypatch.setitem(track.__dict__, "derive", real)
    assert sweep.sweep_once().claimed == 1
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    last = Attempt.objects.filter(kind="activity").latest("id")  # books are attempted too
    assert last.detail["derivers"] == [d.name for d in derivers.ALL[1:]]


def test_fallback_that_fails_leaves_the_activity_to_the_sweep(api, queue_down, monkeypatch):
    from work import leases

    def broken(*args, **kwargs):
        raise RuntimeError("the database fell over mid-claim")

    monkeypatch.setattr(leases, "claim_one", broken)
    before = _fallbacks("error")
    response, _ = _post(api, factories.gpx())
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert _fallbacks("error") == before + 1
    monkeypatch.undo()
    assert sweep.sweep_once().claimed == 1


def test_file_over_the_inline_size_is_left_to_the_sweep(api, queue_down, settings):
    settings.CAIRN_INLINE_MAX_KB = 1
    response, _ = _post(api, factories.gpx(points=100))
    assert response.status_code == 202
    assert response.json()["status"] == "queued"
    assert not Attempt.objects.exists()


def test_without_the_fallback_the_upload_just_waits_for_the_sweep(api, queue_down, settings):
    settings.CAIRN_INLINE_FALLBACK = False
    response, _ = _post(api, factories.gpx())
    assert response.json()["status"] == "queued"
    assert not Attempt.objects.exists()
