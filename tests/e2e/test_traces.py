"""Traces: one upload is one trace, from its request through the commit and the nudge to
whichever worker claims it (by the nudge, by the sweep, or after a worker died), each
deriver, the settle and the webhook delivery. The context travels on the row: the worker
side here runs after the request has ended, with no span current, as another process
would. Spans go to the SDK's in-memory exporter."""

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from freezegun import freeze_time
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from activities.models import Activity
from reconciler import sweep, tasks
from reconciler.derivation import kind as activity_kind
from tests import factories
from tests.conftest import NOW, subprocess_env
from tests.receivers import Receiver
from work import clock, leases, tracing
from work.models import Attempt

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracing.use(provider)
    yield exporter
    tracing.use(None)


@pytest.fixture
def receiver(settings):
    settings.CAIRN_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
    settings.CAIRN_WEBHOOK_CONCURRENCY = 0  # posted in the sweep's own thread
    one = Receiver().start()
    yield one
    one.close()


def _upload(api) -> int:
    response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile(
        "ride.gpx", factories.gpx())})
    assert response.status_code == 202, response.content
    return response.json()["activity_id"]


def _request(spans) -> tuple[int, int]:
    """The upload request's trace id, and the commit span's id (what the row carries)."""
    (commit,) = [s for s in spans.get_finished_spans() if s.name == "upload commit"]
    (server,) = [s for s in spans.get_finished_spans()
                 if s.context.span_id == commit.parent.span_id]
    assert server.kind == SpanKind.SERVER and server.attributes["http.method"] == "POST"
    return server.context.trace_id, commit.context.span_id


def _works(spans, kind: str, trace_id: int) -> list:
    return [s for s in spans.get_finished_spans()
            if s.name == f"{kind} work" and s.context.trace_id == trace_id]


def _children(spans, parent) -> list[str]:
    return [s.name for s in spans.get_finished_spans()
            if s.parent is not None and s.parent.span_id == parent.context.span_id]


def test_an_upload_processed_by_the_nudge_is_one_trace_to_the_webhook(
        api, spans, receiver, log_lines):
    assert api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["upload.ready"]},
                    content_type="application/json").status_code == 201
    activity_id = _upload(api)
    trace_id, commit_id = _request(spans)
    (nudge,) = [s for s in spans.get_finished_spans() if s.name == "nudge"]
    assert (nudge.context.trace_id, nudge.parent.span_id) == (trace_id, commit_id)
    assert Activity.objects.get(id=activity_id).trace_parent  # the context is on the row

    # The q2 worker: another process, with no span of the request current.
    log_lines.clear()
    assert tasks.nudge(activity_id) == Attempt.Outcome.CONVERGED
    (work,) = _works(spans, "activity", trace_id)
    assert work.parent.span_id == commit_id
    assert work.attributes["cairn.trigger"] == "nudge"
    assert work.attributes["cairn.attempt"] == 1
    assert work.attributes["cairn.outcome"] == "converged"
    steps = _children(spans, work)
    assert steps[0] == "claim" and steps[-1] == "settle"
    assert {"derive track", "derive summary", "derive route"} <= set(steps)

    # Every line the worker logged inside the work names the trace.
    traced = [json.loads(line) for line in log_lines if '"trace_id"' in line]
    assert traced and {line["trace_id"] for line in traced} == {format(trace_id, "032x")}

    # The delivery was written by the settle, and carries the same trace to its worker.
    sweep.sweep_once()
    assert receiver.accepted()
    (delivery,) = _works(spans, "delivery", trace_id)
    assert delivery.attributes["cairn.outcome"] == "converged"
    assert "webhook post" in _children(spans, delivery)


def test_an_upload_processed_by_the_sweep_is_one_trace(api, spans, settings):
    settings.CAIRN_BROKER = "redis"  # nothing listens there: the nudge fails, the sweep
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # finds the activity
    settings.CAIRN_NUDGE_TIMEOUT_S = 0.2
    settings.CAIRN_INLINE_FALLBACK = False
    activity_id = _upload(api)
    trace_id, commit_id = _request(spans)
    sweep.sweep_once()
    (work,) = _works(spans, "activity", trace_id)
    assert work.parent.span_id == commit_id
    assert work.attributes["cairn.trigger"] == "sweep"
    assert work.attributes["cairn.row_id"] == activity_id
    assert work.attributes["cairn.outcome"] == "converged"


def test_after_a_worker_died_the_rescuer_continues_the_trace(api, spans, settings):
    with freeze_time(NOW) as frozen:
        settings.CAIRN_BROKER = "redis"
        settings.REDIS_URL = "redis://127.0.0.1:1/0"
        settings.CAIRN_NUDGE_TIMEOUT_S = 0.2
        settings.CAIRN_INLINE_FALLBACK = False
        activity_id = _upload(api)
        trace_id, commit_id = _request(spans)
        # A worker takes the activity and dies holding it: its span never ends.
        taken = leases.claim(activity_kind.KIND, limit=1, now=clock.now(), owner="doomed",
                             trigger=Attempt.Trigger.SWEEP)
        assert [lease.row_id for lease in taken] == [activity_id]
        frozen.tick(timedelta(seconds=settings.CAIRN_LEASE_S + 1))
        sweep.sweep_once()
    (rescue,) = _works(spans, "activity", trace_id)
    assert rescue.parent.span_id == commit_id
    assert rescue.attributes["cairn.orphan"] is True
    assert rescue.attributes["cairn.attempt"] == 2
    assert rescue.attributes["cairn.outcome"] == "converged"
    assert list(Attempt.objects.filter(kind="activity", row_id=activity_id)
                .order_by("id").values_list("outcome", flat=True)) == [
        Attempt.Outcome.WORKER_DIED, Attempt.Outcome.CONVERGED]


def test_off_nothing_is_carried(api):
    assert not tracing.on()
    activity_id = _upload(api)
    assert Activity.objects.get(id=activity_id).trace_parent == ""
    assert settings.MIDDLEWARE == [m for m in settings.MIDDLEWARE if "opentelemetry" not in m]


def test_a_worker_in_another_process_continues_the_trace_it_finds_on_the_row(
        api, spans, settings):
    settings.CAIRN_BROKER = "redis"  # the nudge fails: the other process's sweep finds it
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CAIRN_NUDGE_TIMEOUT_S = 0.2
    settings.CAIRN_INLINE_FALLBACK = False
    activity_id = _upload(api)
    trace_id, commit_id = _request(spans)
    done = subprocess.run([sys.executable, "manage.py", "reconcile", "--once"], cwd=REPO,
                          env=subprocess_env(CAIRN_TRACING="console"), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    printed = _printed_spans(done.stdout)
    (work,) = [s for s in printed if s["name"] == "activity work"]
    assert work["context"]["trace_id"] == f"0x{trace_id:032x}"
    assert work["parent_id"] == f"0x{commit_id:016x}"
    assert work["attributes"]["cairn.row_id"] == activity_id
    assert work["attributes"]["cairn.outcome"] == "converged"
    assert {s["name"] for s in printed if s["parent_id"] == work["context"]["span_id"]} >= {
        "claim", "derive track", "derive summary", "settle"}


def _printed_spans(output: str) -> list[dict]:
    """The spans the console exporter printed (JSON objects, one after another, among the
    command's own lines)."""
    decoder, found, at = json.JSONDecoder(), [], output.find("{")
    while at != -1:
        printed, end = decoder.raw_decode(output, at)
        if "context" in printed and "name" in printed:
            found.append(printed)
        at = output.find("\n{", end)
        at = at + 1 if at != -1 else -1
    return found
