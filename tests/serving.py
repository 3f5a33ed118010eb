"""The real `serve` (gunicorn as Cairn runs it, and a q2 cluster) on a free port, for tests
that need real sockets: slow clients, bodies sent or not, two servers on one folder."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.ports import free_port

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Served:
    process: subprocess.Popen
    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def start(env: dict[str, str], *, log: Path, port: int | None = None,
          wait: bool = True) -> Served:
    """`manage.py serve` in its own process group (so that a test can kill it whole)."""
    port = port or free_port()
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "serve", "--port", str(port)], cwd=REPO, env=env,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    served = Served(process, port, log)
    if wait:
        wait_healthy(served)
    return served


def wait_healthy(served: Served, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if served.process.poll() is not None:
            raise AssertionError(f"serve exited ({served.process.returncode}):\n"
                                 + served.output()[-3000:])
        try:
            with urllib.request.urlopen(served.url("/healthz"), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise AssertionError("serve did not come up:\n"
                                     + served.output()[-3000:]) from None
            time.sleep(0.2)


def stop(served: Served) -> None:
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
        try:
            served.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            kill(served)
    kill(served)  # anything of its group still alive


def kill(served: Served) -> None:
    try:
        os.killpg(served.process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    served.process.wait(timeout=10)


def timed_get(served: Served, path: str, timeout: float = 35) -> tuple[float, int]:
    """(seconds, status) of one GET on a fresh connection."""
    started = time.monotonic()
    with urllib.request.urlopen(served.url(path), timeout=timeout) as answer:
        answer.read()
        return time.monotonic() - started, answer.status


def stalled_clients(served: Served, count: int) -> list[socket.socket]:
    """Connections that send the start of a request head and then nothing more."""
    sockets = []
    for _ in range(count):
        client = socket.create_connection(("127.0.0.1", served.port), timeout=5)
        client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        sockets.append(client)
    return sockets


def send_head(served: Served, head: str, body: bytes = b"") -> socket.socket:
    """Send a request head (and the start of its body) and nothing more."""
    client = socket.create_connection(("127.0.0.1", served.port), timeout=10)
    client.sendall(head.replace("\n", "\r\n").encode() + body)
    return client


def read_status(client: socket.socket, timeout: float) -> tuple[float, int, bytes]:
    """(seconds until the answer's head came, status, what came): the answer must come
    while the client still withholds the rest of its body."""
    client.settimeout(timeout)
    started = time.monotonic()
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = client.recv(65536)
        if not chunk:
            break
        received += chunk
    elapsed = time.monotonic() - started
    status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/") else 0
    return elapsed, status, received
