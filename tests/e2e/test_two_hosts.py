"""Two hosts that share no disk: web (gunicorn) on A, a sweeper and a q2 cluster on B, each
with a CAIRN_DATA_DIR of its own; one PostgreSQL, one Redis, one object store (SeaweedFS).
Uploads taken on A are derived on B, and neither host writes a file of its own."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path

import pytest

from activities import tokens
from activities.models import Activity
from tests import factories
from tests.conftest import subprocess_env
from tests.e2e.test_metrics import _get, _upload, _wait
from tests.ports import free_port
from tests.seaweed import BUCKET

REPO = Path(__file__).resolve().parents[2]
# A Redis database of this test's own: q2's queue there is nobody else's.
REDIS_URL = "redis://127.0.0.1:6379/13"


def _host(data_dir: Path, **extra: str) -> dict[str, str]:
    data_dir.mkdir()
    return subprocess_env(CAIRN_DATA_DIR=str(data_dir), CAIRN_CLOCK="database",
                          CAIRN_BROKER="redis", REDIS_URL=REDIS_URL, **extra)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_uploads_taken_on_one_host_are_derived_on_another_with_no_shared_disk(
        user, s3_store, settings, tmp_path):
    token = tokens.create(user)
    port = free_port()
    host_a, host_b, logs = tmp_path / "host-a", tmp_path / "host-b", tmp_path / "logs"
    logs.mkdir()
    env_a, env_b = _host(host_a), _host(host_b, CAIRN_WORKERS="2")
    processes = []

    def start(name: str, command: list[str], env: dict[str, str]) -> None:
        with open(logs / f"{name}.log", "wb") as log:
            processes.append(subprocess.Popen(command, cwd=REPO, env=env, stdout=log,
                                              stderr=subprocess.STDOUT))

    try:
        start("web-a", [sys.executable, "-m", "gunicorn", "settings.wsgi", "--bind",
                        f"127.0.0.1:{port}", "--workers", "2"], env_a)
        start("sweeper-b", [sys.executable, "manage.py", "reconcile", "--loop",
                            "--interval", "1"], env_b)
        start("qcluster-b", [sys.executable, "manage.py", "qcluster"], env_b)
        _wait(lambda: _get(port, "/healthz"), "gunicorn on host A")
        files = [factories.gpx(points=60 + i) for i in range(5)] + [factories.fit(seed=7)]
        ids = [_upload(port, token, data)["activity_id"] for data in files]
        _wait(lambda: Activity.objects.filter(id__in=ids, status="ready").count() == len(ids),
              "host B to derive every upload", timeout=90)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=30)
            process.kill()  # only if it did not stop

    # The originals are in the object store, byte for byte.
    client = s3_store.client()
    for activity_id, data in zip(ids, files, strict=True):
        name = Activity.objects.values_list("file_name", flat=True).get(id=activity_id)
        body = client.get_object(Bucket=BUCKET, Key=f"{settings.AWS_LOCATION}/{name}")["Body"]
        assert body.read() == data
    # Nothing of either host's own on its disk (logs went to stderr: here, files outside
    # the data dirs).
    written = {str(p.relative_to(tmp_path)) for host in (host_a, host_b)
               for p in host.rglob("*")}
    assert written == set(), written
