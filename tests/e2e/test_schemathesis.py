"""A property-based run (schemathesis) against a live Cairn: no 500, no status or body
that the OpenAPI document does not allow."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from activities import tokens
from tests.conftest import subprocess_env
from tests.ports import free_port

REPO = Path(__file__).resolve().parents[2]
CHECKS = ("not_a_server_error,status_code_conformance,content_type_conformance,"
          "response_schema_conformance")


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_schema_break(user, capsys):
    port = free_port()
    env = subprocess_env(CAIRN_CLOCK="local")
    processes = [
        subprocess.Popen([sys.executable, "-m", "gunicorn", "settings.wsgi", "--bind",
                          f"127.0.0.1:{port}", "--workers", "2"], cwd=REPO, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "manage.py", "reconcile", "--loop", "--interval",
                          "0.2"], cwd=REPO, env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not come up"
                time.sleep(0.1)
        examples = os.environ.get("CAIRN_SCHEMATHESIS_EXAMPLES", "15")
        run = subprocess.run(
            [Path(sys.executable).with_name("schemathesis"), "run",
             f"http://127.0.0.1:{port}/api/v1/openapi.json",
             "-H", f"Authorization: Bearer {tokens.create(user)}", "--checks", CHECKS,
             "--max-examples", examples, "--seed", "20261123", "--no-color"],
            cwd=REPO, capture_output=True, text=True, timeout=600)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    summary = run.stdout[run.stdout.rfind("SUMMARY"):]
    with capsys.disabled():
        print("\n" + summary.strip())
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
