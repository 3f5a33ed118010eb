"""The web server `serve` runs: gunicorn with a threaded worker that lets no slow client
hold a thread, and an access log that never shows a token.

Why this worker (measured, README "Production"): gunicorn's sync worker gives each
connection a whole process until the request head has arrived, so two sockets sending
a header line now and then stopped a two-worker Cairn for the 30 s worker timeout. The
stock gthread worker only moves the wait to a thread (and a stalled head then holds it
for good, as its heartbeat keeps running). waitress or an ASGI server would buffer the
head, but also the whole body before Django sees the request, so a 300 MB body would be
read before its 401. This worker reads each request head in the event loop, without a
thread, and hands the connection to the thread pool only once the head is complete (or
too large, for the parser to refuse); a head that takes longer than HEAD_TIMEOUT_S is
dropped. A small body (a form, JSON) is read whole in the loop too, within a deadline,
before a thread takes the request (activities/bodies.py says which, and why); the bodies
of the views that take files are read by the application, after it has checked the
token and the size, with an idle timeout per read.
"""

from __future__ import annotations

import errno
import selectors
import sys
import time
from collections import deque
from functools import partial

from gunicorn.glogging import Logger
from gunicorn.workers.gthread import TConn, ThreadWorker

from activities import bodies
from activities.redaction import redact

#: A request head (request line and headers) must arrive whole within this long.
HEAD_TIMEOUT_S = 10.0
#: gunicorn refuses heads past its own limits (8 KB lines, 100 fields); this is where the
#: loop stops buffering and lets the parser say so.
MAX_HEAD_BYTES = 64 * 1024
#: A body read that waits longer than this for the next bytes gives up.
BODY_IDLE_TIMEOUT_S = 30.0
#: Threads per web process: requests served at once (slow heads cost none).
THREADS = 8

_END_OF_HEAD = b"\r\n\r\n"
#: The most a buffered body's read takes from the socket at once.
_BODY_READ = 256 * 1024
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class HeadBufferingWorker(ThreadWorker):
    """gthread, but a connection reaches a thread only with a complete request head, and
    with its whole body unless its view reads the body itself."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.heads: deque[TConn] = deque()  # waiting for their head, oldest first
        self.bodies: deque[TConn] = deque()  # waiting for their body, oldest first

    def run(self):
        # The URLs resolved once now, not in the event loop at the first body.
        bodies.streams_body("/")
        super().run()

    def accept(self, listener):
        try:
            client_sock, client_addr = listener.accept()
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        self.nr_conns += 1
        self._await_head(TConn(self.cfg, client_sock, client_addr, listener.getsockname()))

    def on_client_socket_readable(self, conn, client):
        # A kept-alive connection's next request is buffered the same way.
        self.poller.unregister(client)
        self.keepalived_conns.remove(conn)
        self._await_head(conn)

    def _await_head(self, conn: TConn) -> None:
        conn.sock.setblocking(False)
        conn.head = b""
        conn.head_deadline = time.monotonic() + HEAD_TIMEOUT_S
        self.heads.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_head, conn))

    def _read_head(self, conn: TConn, client) -> None:
        try:
            data = client.recv(MAX_HEAD_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(conn)
            return
        conn.head += data
        if _END_OF_HEAD in conn.head or len(conn.head) >= MAX_HEAD_BYTES:
            self.poller.unregister(client)
            self.heads.remove(conn)
            self._head_arrived(conn)

    def _head_arrived(self, conn: TConn) -> None:
        """To a thread now, or once the loop has the body (or answered it itself)."""
        head = bodies.parse(conn.head)
        if not bodies.buffered(head):
            self.enqueue_req(conn)
            return
        refused = bodies.refusal(head)
        if refused is not None:
            self._answer(conn, refused)
            return
        if head.expects_continue and len(conn.head) < head.end + head.length:
            conn.head = bodies.without_expect(conn.head, head)
            head = bodies.parse(conn.head)
            self._send(conn, _CONTINUE)
        conn.body_end = head.end + head.length
        if len(conn.head) >= conn.body_end:
            self.enqueue_req(conn)
            return
        conn.body_deadline = time.monotonic() + bodies.BODY_TIMEOUT_S
        self.bodies.append(conn)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read_body, conn))

    def _read_body(self, conn: TConn, client) -> None:
        try:
            data = client.recv(min(_BODY_READ, conn.body_end - len(conn.head)))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:  # the client went away
            self._drop(conn)
            return
        conn.head += data
        if len(conn.head) >= conn.body_end:
            self.poller.unregister(client)
            self.bodies.remove(conn)
            self.enqueue_req(conn)

    def _answer(self, conn: TConn, refused: bodies.Refusal) -> None:
        """Answer from the loop and close (a refusal is short: one send takes it)."""
        self._send(conn, refused.answer())
        self.nr_conns -= 1
        conn.close()

    @staticmethod
    def _send(conn: TConn, data: bytes) -> None:
        try:
            conn.sock.send(data)
        except OSError:
            pass  # the client went away: nothing to tell it

    def _drop(self, conn: TConn, answer: bodies.Refusal | None = None) -> None:
        for waiting in (self.heads, self.bodies):
            if conn in waiting:
                waiting.remove(conn)
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass
        if answer is None:
            self.nr_conns -= 1
            conn.close()
        else:
            self._answer(conn, answer)

    def murder_pending(self):
        super().murder_pending()
        now = time.monotonic()
        while self.heads and self.heads[0].head_deadline <= now:
            self._drop(self.heads[0])
        while self.bodies and self.bodies[0].body_deadline <= now:
            self._drop(self.bodies[0], bodies.TIMED_OUT)

    def handle(self, conn):
        head = getattr(conn, "head", None)
        if head is not None:
            conn.head = None
            conn.data_ready = True  # no wait for data in the thread: the head is here
            conn.sock.setblocking(True)
            conn.init()
            conn.parser.unreader.unread(head)
        return super().handle(conn)

    def handle_request(self, req, conn):
        # The head is parsed; what the application reads next is the body.
        conn.sock.settimeout(BODY_IDLE_TIMEOUT_S)
        return super().handle_request(req, conn)


class RedactingLogger(Logger):
    """gunicorn's logger, with every secret-bearing query parameter (`access_token`: Strava
    clients send it in the URL; `client_secret`, `code`, … activities.redaction) hidden in
    the access log and in its error lines (which name the request's URI)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q"):
            if atoms.get(key):
                atoms[key] = redact(atoms[key])
        return atoms

    def error(self, msg, *args, **kwargs):
        super().error(redact(str(msg)), *_redacted(args), **kwargs)

    def warning(self, msg, *args, **kwargs):
        super().warning(redact(str(msg)), *_redacted(args), **kwargs)

    def exception(self, msg, *args, **kwargs):
        super().exception(redact(str(msg)), *_redacted(args), **kwargs)


def _redacted(args: tuple) -> tuple:
    return tuple(redact(a) if isinstance(a, str) else a for a in args)


def gunicorn_command(*, host: str, port: int, workers: int) -> list[str]:
    """The web server command of `serve` (tests start exactly this)."""
    return [sys.executable, "-m", "gunicorn", "settings.wsgi", "--bind", f"{host}:{port}",
            "--workers", str(workers), "--threads", str(THREADS),
            "--worker-class", "activities.webserver.HeadBufferingWorker",
            "--logger-class", "activities.webserver.RedactingLogger",
            "--access-logfile", "-", "--graceful-timeout", "10"]
