"""Two `serve` processes on one data folder: the second says where the first runs and
stops, and the first keeps its metrics; a crashed `serve` does not block the next."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from activities import tokens
from tests import factories, serving
from tests.conftest import subprocess_env

pytestmark = pytest.mark.django_db(transaction=True)


def _accepted_uploads(served: serving.Served) -> float:
    with urllib.request.urlopen(served.url("/metrics"), timeout=10) as answer:
        text = answer.read().decode()
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == "cairn_uploads_total"
               and sample.labels.get("result") == "accepted")


def _upload(served: serving.Served, token: str) -> None:
    boundary = "cairnboundary"
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="a.gpx"\r\n\r\n').encode() + factories.gpx() \
        + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        served.url("/api/v1/uploads"), data=body, method="POST",
        headers={"Authorization": f"Bearer {token}",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 202


def test_a_second_serve_on_the_same_data_folder_refuses_and_leaves_the_first_alone(
        user, tmp_path):
    env = subprocess_env(CAIRN_DATA_DIR=str(tmp_path))
    first = serving.start(env, log=tmp_path / "first.log")
    try:
        _upload(first, tokens.create(user))
        # Every web process of the first (whichever answers) sees the upload counted.
        assert [_accepted_uploads(first) for _ in range(4)] == [1] * 4
        second = serving.start(env, log=tmp_path / "second.log", wait=False)
        try:
            code = second.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            serving.kill(second)
            code = None
        said = second.output()
        assert code not in (0, None), said[-2000:]
        assert "already running" in said
        assert f"pid {first.process.pid}" in said
        assert f":{first.port}/" in said
        assert [_accepted_uploads(first) for _ in range(4)] == [1] * 4
        holder = json.loads((tmp_path / "serve.lock").read_text())
        assert holder["pid"] == first.process.pid
    finally:
        serving.stop(first)


def test_a_killed_serve_does_not_block_the_next_start(tmp_path):
    env = subprocess_env(CAIRN_DATA_DIR=str(tmp_path))
    crashed = serving.start(env, log=tmp_path / "crashed.log")
    serving.kill(crashed)  # SIGKILL to serve, gunicorn and the cluster: no clean-up at all
    again = serving.start(env, log=tmp_path / "again.log")
    try:
        elapsed, status = serving.timed_get(again, "/healthz")
        assert status == 200
    finally:
        serving.stop(again)
