"""The processes of a chaos run (web, q2 cluster, sweepers, a private Redis, a PostgreSQL
cluster and an object store of its own) and the faults done to them: SIGKILL, taking the
broker away, restarting PostgreSQL, restarting the object store.

Two hosts with no shared disk: the web tier runs with `env`, the workers (q2 cluster and
sweepers) with `worker_env`, each naming a CAIRN_DATA_DIR of its own."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]


def descendants(pid: int) -> list[int]:
    """Every process below `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


@dataclass
class Kill:
    at: float  # time.time()
    pid: int
    what: str


@dataclass
class Fleet:
    """Start, kill and restart the run's processes; every kill is recorded."""

    env: dict[str, str]
    web_port: int
    redis_port: int
    web_workers: int = 2
    sweepers: int = 2
    log_dir: Path = Path("/tmp")
    worker_env: dict[str, str] | None = None  # None: the workers share the web's host
    postgres: Any = None  # bench.chaos.postgres.OwnPostgres
    store: Any = None  # tests.seaweed.Weed, with CAIRN_STORAGE=s3
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    kills: list[Kill] = field(default_factory=list)
    #: Every process group ever started: a killed q2 sentinel can leave children behind.
    groups: list[int] = field(default_factory=list)
    restarts: list[str] = field(default_factory=list)  # PostgreSQL, the object store
    harness_errors: list[str] = field(default_factory=list)  # faults the harness failed at

    # --- starting ---------------------------------------------------------------------

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=self.env,
                              capture_output=True, text=True, check=check)

    def _spawn(self, name: str, argv: list[str], *, worker: bool = False) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 (lives as long as the child)
        env = self.worker_env if worker and self.worker_env else self.env
        self.procs[name] = subprocess.Popen(argv, cwd=REPO, env=env, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        self.groups.append(self.procs[name].pid)
        return self.procs[name]

    def start_redis(self) -> None:
        self._spawn("redis", ["redis-server", "--port", str(self.redis_port), "--bind",
                              "127.0.0.1", "--save", "", "--appendonly", "no"])
        _wait(lambda: _connects(self.redis_port), what="redis")

    def start_web(self) -> None:
        self._spawn("web", [sys.executable, "-m", "gunicorn", "settings.wsgi", "--bind",
                            f"127.0.0.1:{self.web_port}", "--workers", str(self.web_workers),
                            "--timeout", "60", "--graceful-timeout", "5"])
        _wait(lambda: _healthy(self.web_port), what="gunicorn")

    def start_cluster(self) -> None:
        self._spawn("cluster", [sys.executable, "manage.py", "qcluster"], worker=True)

    def start_sweeper(self, index: int) -> None:
        self._spawn(f"sweeper-{index}", [sys.executable, "manage.py", "reconcile", "--loop",
                                         "--interval", "1"], worker=True)

    def start_all(self) -> None:
        self.start_redis()
        self.start_web()
        self.start_cluster()
        for index in range(self.sweepers):
            self.start_sweeper(index)

    # --- faults -----------------------------------------------------------------------

    def kill(self, pid: int, what: str) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.kills.append(Kill(at=time.time(), pid=pid, what=what))

    def worker_pids(self) -> dict[int, str]:
        """Processes that reconcile: q2's descendants and the sweepers."""
        pids = {}
        cluster = self.procs.get("cluster")
        if cluster and cluster.poll() is None:
            pids.update({pid: "q2 process" for pid in descendants(cluster.pid)})
        for name, proc in self.procs.items():
            if name.startswith("sweeper") and proc.poll() is None:
                pids[proc.pid] = name
        return pids

    def kill_sweeper(self, index: int) -> None:
        proc = self.procs[f"sweeper-{index}"]
        self.kill(proc.pid, f"sweeper-{index}")
        proc.wait()
        self.start_sweeper(index)

    def kill_cluster(self) -> None:
        proc = self.procs["cluster"]
        for pid in [proc.pid, *descendants(proc.pid)]:
            self.kill(pid, "whole q2 cluster")
        proc.wait()
        self.start_cluster()

    def revive(self) -> None:
        """Restart whatever died (a killed cluster's sentinel, a sweeper)."""
        if self.procs["cluster"].poll() is not None:
            self.start_cluster()
        for index in range(self.sweepers):
            if self.procs[f"sweeper-{index}"].poll() is not None:
                self.start_sweeper(index)

    def recover(self) -> None:
        """After the chaos: every server and worker up again, whatever a fault left down
        (one the harness failed to bring back is retried here, for minutes)."""
        deadline = time.monotonic() + 300
        while True:
            try:
                if self.postgres is not None and not self.postgres.running():
                    self.postgres.start()
                if self.store is not None and not self.store.running():
                    self.store.start(timeout_s=120)
                if self.procs["redis"].poll() is not None:
                    self.start_redis()
                self.revive()
                return
            except Exception as error:  # noqa: BLE001 (retried, then raised)
                self.harness_errors.append(f"recovering: {type(error).__name__}: {error}")
                if time.monotonic() > deadline:
                    raise
                time.sleep(2)

    def broker_away(self, seconds: float) -> None:
        redis = self.procs["redis"]
        self.kill(redis.pid, "redis")
        redis.wait()
        time.sleep(seconds)
        self.start_redis()

    def restart_postgres(self) -> None:
        """The run's own cluster: nothing else on the machine notices."""
        self.postgres.restart()

    def restart_store(self) -> None:
        """The object store killed and started again on its ports and data (given two
        minutes to be ready: a loaded machine slows its start)."""
        self.store.stop()
        self.store.start(timeout_s=120)

    # --- stopping ---------------------------------------------------------------------

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        for group in self.groups:  # whatever outlived its leader
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _connects(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def _wait(ready, *, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not come up in {timeout} s")
        time.sleep(0.1)
