"""One HTTP request to a checked address: resolve, refuse what may not be called, connect
to that very address (TLS still checks the host's certificate), never follow redirects."""

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


class _Pinned(http.client.HTTPConnection):
    """An HTTP connection to the address checked, with the URL's host in the Host header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)


def request(method: str, target: destinations.Target, *, body: bytes = b"",
            headers: dict[str, str] | None = None, timeout_s: float) -> Answer:
    """Send one request; every failure is an Answer with an error, never an exception
    (but destinations.Refused, for an address that may not be called)."""
    address = destinations.resolve(target)
    kind = _PinnedTLS if target.scheme == "https" else _Pinned
    connection = kind(target.host, target.port, address, timeout_s)
    started = time.monotonic()
    try:
        connection.request(method, target.path, body=body or None, headers={
            "User-Agent": "Cairn-Webhooks/1", **(headers or {})})
        response = connection.getresponse()
        data = response.read(MAX_BODY)
        return Answer(response.status, "", data, _ms(started))
    except TimeoutError:
        return Answer(None, f"No answer within {timeout_s:g} s.", b"", _ms(started))
    except (OSError, http.client.HTTPException) as error:
        return Answer(None, f"{type(error).__name__}: {error}".strip(), b"", _ms(started))
    finally:
        connection.close()


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
