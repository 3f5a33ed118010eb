"""Logs: JSON lines; every line of an upload request and of its reconcile carries the
request id and the activity id, so one upload can be followed into the worker."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django_q.conf import Conf

from tests import factories

# Committed for real, so the nudge goes out inside the request, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def test_one_upload_can_be_followed_from_the_request_into_the_worker(
        api, log_lines, monkeypatch):
    # q2's sync mode runs the nudge task right here, through the real task function.
    monkeypatch.setattr(Conf, "SYNC", True)
    response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile(
        "a.gpx", factories.gpx())}, HTTP_X_REQUEST_ID="req-123")
    assert response["X-Request-ID"] == "req-123"
    activity_id = response.json()["activity_id"]
    records = [json.loads(line) for line in log_lines]
    ours = [r for r in records if r.get("logger", "").startswith(
        ("activities", "reconciler", "cairn"))]
    events = [r["event"] for r in ours]
    assert {"upload.accepted", "nudge.sent", "reconcile.finished",
            "request.finished"} <= set(events)
    for record in ours:
        assert record["request_id"] == "req-123", record
        assert record["activity_id"] == activity_id, record
        assert record["timestamp"].endswith("Z")
    finished = next(r for r in ours if r["event"] == "reconcile.finished")
    assert finished["trigger"] == "nudge"
    assert finished["outcome"] == "converged"


def test_the_queued_nudge_carries_the_request_id_to_another_process(api, log_lines):
    import structlog
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage

    from reconciler import tasks

    response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile(
        "a.gpx", factories.gpx())}, HTTP_X_REQUEST_ID="req-456")
    activity_id = response.json()["activity_id"]
    [queued] = OrmQ.objects.all()
    task = SignedPackage.loads(queued.payload)
    assert task["func"] == "reconciler.tasks.nudge"
    assert task["args"] == (activity_id,)
    assert task["kwargs"] == {"request_id": "req-456"}
    # What a q2 worker process does with it, starting from an empty logging context.
    structlog.contextvars.clear_contextvars()
    log_lines.clear()
    assert tasks.nudge(*task["args"], **task["kwargs"]) == "converged"
    ours = [json.loads(line) for line in log_lines]
    assert any(r["event"] == "reconcile.finished" for r in ours)
    for record in ours:
        if record.get("logger", "").startswith(("activities", "reconciler")):
            assert record["request_id"] == "req-456", record
            assert record["activity_id"] == activity_id, record
