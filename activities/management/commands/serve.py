"""`serve`: the embedded set-up in one command (migrate, web server, q2 cluster, schedule)."""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import structlog
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from activities import tokens, webserver
from core import memory

log = structlog.get_logger(__name__)

#: In the data folder: held (flock) by the running `serve` and its children, so a second
#: `serve` on the same folder stops before it touches anything. The kernel releases it
#: when the last of them dies, so a crash never blocks the next start.
LOCK_NAME = "serve.lock"


class Command(BaseCommand):
    help = ("Apply migrations, then run the web server (gunicorn) and the django-q2 cluster "
            "(workers and the sweep schedule) until stopped.")

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--web-workers", type=int, default=2)

    def handle(self, *args, host, port, web_workers, **options):
        lock = self.lock(host=host, port=port)
        # Before any child starts: gunicorn, q2 and their workers inherit it.
        if (limit := memory.cap(settings.CAIRN_WORKER_MEMORY_MB)) is not None:
            log.info("memory.capped", limit_mb=limit // 2**20)
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.first_user()
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": self.metrics_dir()}
        # The children inherit the lock: while any of them runs, the folder is in use.
        children = [
            subprocess.Popen(webserver.gunicorn_command(host=host, port=port,
                                                        workers=web_workers),
                             cwd=settings.BASE_DIR, env=env, pass_fds=[lock.fileno()]),
            subprocess.Popen([python, manage, "qcluster"], cwd=settings.BASE_DIR, env=env,
                             pass_fds=[lock.fileno()]),
        ]
        self.stdout.write(self.style.SUCCESS(
            f"Cairn is running at http://{host}:{port}/  (data in {settings.CAIRN_DATA_DIR}; "
            "Ctrl-C stops it)"))
        self.stdout.flush()
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
        failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            sys.exit(1)

    def lock(self, *, host: str, port: int) -> IO[str]:
        """Take the data folder, or stop with who holds it: a second `serve` there would
        empty the first one's metrics folder and share its database unannounced."""
        folder = settings.CAIRN_DATA_DIR
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / LOCK_NAME, "a+")  # noqa: SIM115 (held until the process ends)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            try:
                holder = json.loads(handle.read())
                where = f"pid {holder['pid']}, http://{holder['host']}:{holder['port']}/"
            except (ValueError, KeyError, TypeError):
                where = "starting up"
            raise CommandError(f"Cairn is already running on the data folder {folder} "
                               f"({where}). Stop it first, or give this one another "
                               "CAIRN_DATA_DIR.") from None
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({"pid": os.getpid(), "host": host, "port": port}))
        handle.flush()
        return handle

    def metrics_dir(self) -> str:
        """Where every process writes its Prometheus counters (emptied at each start, as
        prometheus_client's multiprocess mode requires)."""
        configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        path = Path(configured) if configured else settings.CAIRN_DATA_DIR / "prometheus"
        if path.exists():
            shutil.rmtree(path)
        path.mkdir(parents=True)
        return str(path)

    def first_user(self) -> None:
        """On a new install, make an admin so that someone can sign in at all."""
        users = get_user_model().objects
        if users.exists():
            return
        password = os.environ.get("CAIRN_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
        user = users.create_superuser("admin", email="", password=password)
        self.stdout.write(
            "First start: created the user 'admin' with password "
            f"{password!r} (sign in at /login/, admin at /admin/; choose another with "
            "`python manage.py changepassword admin`).\n"
            f"API token for 'admin': {tokens.create(user)}")
