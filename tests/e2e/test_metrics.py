"""/metrics: Prometheus text that the Prometheus client's own parser reads, with the
counters of every process added up."""

import json
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from activities import tokens
from activities.models import Activity
from tests import factories
from tests.conftest import subprocess_env
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]

EXPECTED = {
    "cairn_uploads", "cairn_nudges", "cairn_inline_fallbacks", "cairn_sweeps",
    "cairn_sweep_duration_seconds", "cairn_claims", "cairn_attempts",
    "cairn_derive_duration_seconds", "cairn_reconcile_duration_seconds", "cairn_activities",
    "cairn_old_version_outputs", "cairn_oldest_pending_age_seconds",
    "cairn_worker_last_seen_age_seconds", "cairn_upload_sessions",
    "cairn_upload_session_oldest_arrived_age_seconds",
}


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


@pytest.mark.django_db
def test_metrics_parse_and_move_with_what_happens(api, upload):
    from reconciler import sweep

    before = _samples(Client().get("/metrics").content.decode())
    api.post("/api/v1/uploads", {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    api.post("/api/v1/uploads", {"file": SimpleUploadedFile("b.gpx", b"not an activity")})
    sweep.drain()
    text = Client().get("/metrics").content.decode()
    families = {f.name for f in text_string_to_metric_families(text)}
    assert EXPECTED <= families
    after = _samples(text)

    def moved(name, **labels):
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert moved("cairn_uploads_total", result="accepted", code="") == 1
    assert moved("cairn_uploads_total", result="refused", code="UnsupportedFile") == 1
    assert moved("cairn_claims_total", trigger="sweep") == 1
    assert moved("cairn_attempts_total", trigger="sweep", outcome="converged") == 1
    assert moved("cairn_derive_duration_seconds_count", deriver="track") == 1
    assert after[("cairn_activities", (("state", "total"),))] == 1
    assert after[("cairn_activities", (("state", "pending"),))] == 0


@pytest.mark.django_db
def test_metrics_token_when_configured(settings):
    settings.CAIRN_METRICS_TOKEN = "s3cret"
    assert Client().get("/metrics").status_code == 401
    assert Client(HTTP_AUTHORIZATION="Bearer s3cret").get("/metrics").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_counters_add_up_across_gunicorn_workers_and_q2_processes(user, tmp_path):
    token = tokens.create(user)
    port = free_port()
    env = subprocess_env(PROMETHEUS_MULTIPROC_DIR=str(tmp_path), CAIRN_CLOCK="database",
                         CAIRN_WORKERS="2")
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "settings.wsgi", "--bind",
                            f"127.0.0.1:{port}", "--workers", "2"], cwd=REPO, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cluster = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: _get(port, "/healthz"), "gunicorn")
        for _ in range(6):
            _upload(port, token, factories.gpx())
        _wait(lambda: Activity.objects.filter(status="ready").count() == 6, "processing")
        time.sleep(0.5)  # the last q2 process writes its counters after the task returns
        scrapes = [_samples(_get(port, "/metrics")) for _ in range(6)]
    finally:
        for process in (web, cluster):
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    for samples in scrapes:  # whichever gunicorn worker answered
        assert samples[("cairn_uploads_total", (("code", ""), ("result", "accepted")))] == 6
        assert samples[("cairn_claims_total", (("trigger", "nudge"),))] == 6
        assert samples[("cairn_activities", (("state", "total"),))] == 6


def _get(port: int, path: str) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            return answer.read().decode()
    except OSError:
        return ""


def _upload(port: int, token: str, data: bytes) -> dict:
    boundary = "cairnboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"a.gpx\"\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/uploads", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)


def _wait(ready, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.1)
