"""Live webhook receivers on real sockets for the webhook tests: each records what
arrived (with its arrival time) and answers as told: fail its first answers, hang, fail
every other answer, trickle its answer a byte at a time, or echo Strava's hub.challenge."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.time() when it arrived
    answered: int | None  # the status sent back (None: hung)

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """fail_first: answer 500 to that many requests; hang: never answer (until closed);
    hang_first: hang on that many requests, then answer 200; fail_every_other: 503 to
    every second request; trickle_s: send every answer (a whole, correct one) one byte
    every this many seconds. A GET echoes Strava's hub.challenge."""

    fail_first: int = 0
    hang: bool = False
    hang_first: int = 0
    fail_every_other: bool = False
    trickle_s: float = 0.0
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # Strava's challenge
                query = parse_qs(urlsplit(self.path).query)
                self._note(b"", 200)
                self._answer(200, json.dumps(
                    {"hub.challenge": query.get("hub.challenge", [""])[0]}).encode())

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    n = sum(1 for r in receiver.received if r.method == "POST")
                status = None if receiver.hang or n < receiver.hang_first else (
                    500 if n < receiver.fail_first else
                    503 if receiver.fail_every_other and n % 2 == 0 else 200)
                self._note(body, status)
                if status is None:
                    receiver.stop.wait()
                    return
                self._answer(status, b"ok")

            def _note(self, body: bytes, status: int | None) -> None:
                with receiver.lock:
                    receiver.received.append(Received(
                        self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                        body, time.time(), status))

            def _answer(self, status: int, body: bytes) -> None:
                if receiver.trickle_s:
                    self._trickle(status, body)
                    return
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def _trickle(self, status: int, body: bytes) -> None:
                answer = (f"HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\n"
                          f"Content-Length: {len(body)}\r\n\r\n").encode() + body
                for n in range(len(answer)):
                    if receiver.stop.wait(receiver.trickle_s):
                        return
                    try:
                        self.wfile.write(answer[n:n + 1])
                        self.wfile.flush()
                    except OSError:  # the caller gave up: that is what a test wants
                        return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def posts(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.method == "POST"]

    def accepted(self) -> list[Received]:
        return [r for r in self.posts() if r.answered == 200]

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()
