"""What every benchmark needs: a fresh PostgreSQL database, Cairn's processes against it,
a user with a token, and statistics that say median and spread."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("CAIRN_BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")


@dataclass(frozen=True)
class Figure:
    """One measured quantity over repeated runs."""

    name: str
    unit: str
    runs: tuple[float, ...]
    target: str = ""
    met: bool | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    @property
    def spread(self) -> str:
        """min–max over a few runs; the 5th to 95th percentile over many samples."""
        if len(self.runs) < 2:
            return "—"
        if len(self.runs) < 10:
            return f"{min(self.runs):.4g}–{max(self.runs):.4g}"
        runs = list(self.runs)
        return f"p5 {percentile(runs, 5):.4g} – p95 {percentile(runs, 95):.4g}"

    def as_dict(self) -> dict:
        return {"name": self.name, "unit": self.unit, "median": self.median,
                "runs": list(self.runs), "target": self.target, "met": self.met}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


@dataclass
class Site:
    """A fresh database and data folder, and the Cairn processes started against them."""

    name: str
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def __post_init__(self) -> None:
        # A prefix of one's own (CAIRN_BENCH_PREFIX) lets two people bench on one server.
        self.database = f"{os.environ.get('CAIRN_BENCH_PREFIX', 'cairn_bench')}_{self.name}"
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.url = f"{SERVER}/{self.database}"
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"cairn-bench-{self.name}-"))
        self.env = {**os.environ, "DATABASE_URL": self.url, "CAIRN_DATA_DIR": str(self.data_dir),
                    "SECRET_KEY": secrets.token_urlsafe(40), "CAIRN_LOG_LEVEL": "warning",
                    "CAIRN_UPLOADS_PER_MINUTE": "0", "CAIRN_MAX_PENDING": "0",
                    # The backfill and sweep benchmarks time a promoted rollout: no deriver
                    # waits in preview for an operator's `rollout promote`.
                    "CAIRN_ROLLOUT_PREVIEW": "",
                    "PYTHONPATH": str(REPO), **self.extra_env}
        MADE.append(self)
        self.manage("migrate", "-v0")
        self.token = self.manage("create_api_token", "bench", "--create-user").strip()

    def manage(self, *args: str) -> str:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env,
                              capture_output=True, text=True, check=True).stdout

    def python(self, module: str, *args: str) -> dict:
        """Run `python -m module args` against this site; it prints one JSON object."""
        out = subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=self.env,
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])

    def start(self, *argv: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        process = subprocess.Popen(list(argv), cwd=REPO, env={**self.env, **(env or {})},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def web(self, port: int, *, workers: int = 2, settings: str = "settings",
            env: dict[str, str] | None = None) -> None:
        self.start(sys.executable, "-m", "gunicorn", "settings.wsgi", "--bind",
                   f"127.0.0.1:{port}", "--workers", str(workers), "--backlog", "2048",
                   env={"DJANGO_SETTINGS_MODULE": settings, **(env or {})})
        wait_until(lambda: _answers(f"http://127.0.0.1:{port}/healthz"), what="gunicorn")

    def sweepers(self, count: int, *, batch: int = 10) -> None:
        for _ in range(count):
            self.start(sys.executable, "manage.py", "reconcile", "--loop", "--interval",
                       "0.05", "--batch", str(batch))

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else []


#: Every site made in this process, until remove_sites.
MADE: list[Site] = []


def remove_sites() -> int:
    """Stop every site made in this process and remove its data folder and database (an
    acknowledgement run leaves gigabytes of originals); how many. CAIRN_BENCH_KEEP=1
    keeps them to look at."""
    removed = 0
    while MADE:
        site = MADE.pop()
        site.stop()
        if os.environ.get("CAIRN_BENCH_KEEP") == "1":
            continue
        shutil.rmtree(site.data_dir, ignore_errors=True)
        with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{site.database}" WITH (FORCE)')
        removed += 1
    return removed


def wait_until(ready, *, what: str, timeout: float = 120, every: float = 0.05) -> float:
    """Seconds it took for `ready()` to hold."""
    started = time.monotonic()
    while not ready():
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"{what}: not within {timeout} s")
        time.sleep(every)
    return time.monotonic() - started


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def fill_processed(site: Site, size: int, *, data: dict[str, bytes] | None = None) -> None:
    """`size` processed activities with every deriver's output current, in bulk SQL;
    `data` gives the stored bytes of some derivers (the others store none)."""
    from core import derivers

    data = data or {}
    owner, upload = site.query(
        "INSERT INTO activities_upload (owner_id, sha256, size_bytes, original_name, kind, "
        "file_name, created_at) SELECT id, repeat('0', 64), 1, '', 'file', '', now() "
        "FROM auth_user WHERE username = 'bench' RETURNING owner_id, id")[0]
    site.query(
        "INSERT INTO activities_activity (owner_id, upload_id, name, external_id, format, "
        "sha256, file_name, size_bytes, created_at, start_time, status, error_code, "
        "error_message, needs_work, generation, priority, due_at, lease_owner, attempts, "
        "processed_at) SELECT %s, %s, '', '', 'fit', md5(i::text) || md5((-i)::text), 'x', 1, "
        "now(), now(), 'ready', '', '', false, 1, 0, now(), '', 0, now() "
        "FROM generate_series(1, %s) AS i", [owner, upload, size])
    for deriver in derivers.ALL:
        stored = data.get(deriver.name)
        site.query(
            "INSERT INTO activities_derived (activity_id, deriver, version, status, data, "
            "digest, error_code, error_message, duration_ms, updated_at) SELECT id, %s, %s, "
            "'ready', %s, %s, '', '', 0, now() FROM activities_activity",
            [deriver.name, deriver.version, stored,
             derivers.digest(stored) if stored is not None else None])
        site.query(
            "INSERT INTO reconciler_rollout (deriver, version, state, keep_previous, cursor, "
            "flagged, window_count, started_at, finished_at) "
            "SELECT %s, %s, 'finished', false, max(id), 0, 0, now(), now() "
            "FROM activities_activity",
            [deriver.name, deriver.version])
    site.query("VACUUM ANALYZE")


def post_file(port: int, token: str, data: bytes, *, name: str = "ride.fit") -> dict:
    """Upload one file through the API; its JSON answer."""
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/uploads", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}",
                 "Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def upload_status(port: int, token: str, upload_id: int) -> str:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/uploads/{upload_id}",
                                     headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.load(answer)["status"]
