"""One HTTP request to a checked address: resolve, refuse what may not be called, connect
to that very address (TLS still checks the host's certificate), never follow redirects.

Every request has one deadline for all of it: resolving the name, connecting, the TLS
handshake, sending, and the whole answer. A socket timeout alone bounds each read, so a
peer sending a byte now and then would hold the caller for as long as it liked."""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from webhooks import destinations

#: At most this much of an answer is read (a receiver's body is not ours to keep).
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class Answer:
    status: int | None  # None: no answer (refused, timed out, reset)
    error: str  # "" for an answer; else a sentence
    body: bytes
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _Deadline:
    """A socket whose every send and receive may wait only for what is left of the
    request's deadline (http.client reads through recv_into, TLS writes through send)."""

    deadline = float("inf")  # monotonic seconds; set once the socket is made

    def _arm(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        self.settimeout(left)

    def recv_into(self, *args, **kwargs):
        self._arm()
        return super().recv_into(*args, **kwargs)

    def send(self, *args, **kwargs):
        self._arm()
        return super().send(*args, **kwargs)

    def sendall(self, *args, **kwargs):
        self._arm()
        return super().sendall(*args, **kwargs)


class _DeadlineSocket(_Deadline, socket.socket):
    pass


class _DeadlineTLSSocket(_Deadline, ssl.SSLSocket):
    pass


def _connect(address: str, port: int, deadline: float) -> _DeadlineSocket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = _DeadlineSocket(family, socket.SOCK_STREAM)
    sock.deadline = deadline
    try:
        sock._arm()
        sock.connect((address, port))
    except BaseException:
        sock.close()
        raise
    return sock


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to the address checked, with the URL's host in the Host header."""

    def __init__(self, host: str, port: int, address: str, deadline: float) -> None:
        super().__init__(host, port)
        self.address, self.deadline = address, deadline

    def connect(self) -> None:
        self.sock = _connect(self.address, self.port, self.deadline)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, deadline: float) -> None:
        context = ssl.create_default_context()
        context.sslsocket_class = _DeadlineTLSSocket
        super().__init__(host, port, context=context)
        self.address, self.deadline = address, deadline

    def connect(self) -> None:
        raw = _connect(self.address, self.port, self.deadline)
        raw._arm()  # the handshake is one call, bounded as a whole by this timeout
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)
        self.sock.deadline = self.deadline


def request(method: str, target: destinations.Target, *, body: bytes = b"",
            headers: dict[str, str] | None = None, timeout_s: float) -> Answer:
    """Send one request, all of it within `timeout_s`; every failure is an Answer with an
    error, never an exception (but destinations.Refused, for an address that may not be
    called)."""
    started = time.monotonic()
    deadline = started + timeout_s
    address = destinations.resolve(target, timeout_s=timeout_s)
    kind = _PinnedTLS if target.scheme == "https" else _Pinned
    connection = kind(target.host, target.port, address, deadline)
    try:
        connection.request(method, target.path, body=body or None, headers={
            "User-Agent": "Cairn-Webhooks/1", **(headers or {})})
        response = connection.getresponse()
        data = response.read(MAX_BODY)
        return Answer(response.status, "", data, _ms(started))
    except TimeoutError:
        return Answer(None, f"No whole answer within {timeout_s:g} s.", b"", _ms(started))
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, f"{type(error).__name__}: {error}".strip(), b"", _ms(started))
    finally:
        connection.close()


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
