"""Which request bodies the web server's event loop reads whole before a thread takes the
request (activities/webserver.py), decided from the request head alone.

A body read on a thread holds the thread for as long as the client takes to send it, and
Django's CSRF check reads the form of any POST that carries a `csrftoken` cookie before a
view has looked at who sent it: sixteen anonymous sockets sending a byte every 10 s held
every thread. So:

* the views that take files (marked with activities.bodylimit.streams_body) check the
  token and the declared size first and read after: their requests go to a thread at the
  head, and their bodies are read there (large bodies are never held in memory);
* every other body is small (Django refuses one over DATA_UPLOAD_MAX_MEMORY_SIZE): the
  loop reads it whole, without a thread, within BODY_TIMEOUT_S; larger is `413`, a
  chunked body (which Django would not read) `411`, a body still incomplete at the
  deadline `408`, each answered by the loop and the connection closed.

A head this module cannot read (a malformed or doubled Content-Length, a head too large)
goes to a thread as it is: gunicorn's parser refuses it before reading any body.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

#: A body the loop buffers must be complete this long after its head was.
BODY_TIMEOUT_S = 20.0

_END_OF_HEAD = b"\r\n\r\n"


@dataclass(frozen=True)
class Head:
    method: str
    path: str
    #: Content-Length (0 when absent).
    length: int
    #: A Transfer-Encoding was sent (the length is not known from the head).
    encoded: bool
    #: `Expect: 100-continue`: the client waits for a 100 before it sends the body.
    expects_continue: bool
    #: Where the body starts in the bytes read.
    end: int


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str
    code: str
    message: str

    def answer(self) -> bytes:
        """The whole HTTP answer, closing the connection."""
        body = json.dumps({"error": {"code": self.code, "message": self.message}}).encode()
        return (f"HTTP/1.1 {self.status} {self.reason}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body


TIMED_OUT = Refusal(408, "Request Timeout", "RequestTimeout",
                    f"The request body did not arrive within {BODY_TIMEOUT_S:g} s.")
LENGTH_REQUIRED = Refusal(411, "Length Required", "LengthRequired",
                          "Send this body with a Content-Length, not chunked.")


def parse(data: bytes) -> Head | None:
    """The facts of a complete request head at the start of `data`; None when it is not
    one this module reads (gunicorn's parser answers it)."""
    end = data.find(_END_OF_HEAD)
    if end < 0:
        return None
    lines = data[:end].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3:
        return None
    lengths, encoded, expects = [], False, False
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon:
            return None
        name, value = name.strip().lower(), value.strip(b" \t")
        if name == b"content-length":
            lengths.append(value)
        elif name == b"transfer-encoding":
            encoded = True
        elif name == b"expect":
            expects = value.lower() == b"100-continue"
    if len(lengths) > 1 or (lengths and not lengths[0].isdigit()):
        return None
    try:
        method, target = parts[0].decode("ascii"), parts[1].decode("ascii")
    except UnicodeDecodeError:
        return None
    return Head(method=method, path=unquote(urlsplit(target).path or "/"),
                length=int(lengths[0]) if lengths else 0, encoded=encoded,
                expects_continue=expects and parts[2] == b"HTTP/1.1",
                end=end + len(_END_OF_HEAD))


def streams_body(path: str) -> bool:
    """Whether the view at `path` reads its own body after its checks."""
    from django.urls import Resolver404, resolve

    from activities.bodylimit import STREAMS_BODY

    try:
        return getattr(resolve(path).func, STREAMS_BODY, False)
    except Resolver404:
        return False


def limit() -> int:
    """The largest body the loop buffers: what Django reads of a form or a JSON body."""
    from django.conf import settings

    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440


def refusal(head: Head) -> Refusal | None:
    """Why the loop answers this request itself rather than read its body."""
    if head.encoded:
        return LENGTH_REQUIRED
    if head.length > limit():
        return Refusal(413, "Content Too Large", "TooLarge",
                       f"This request's body may be at most {limit()} bytes.")
    return None


def buffered(head: Head | None) -> bool:
    """Whether the loop reads this request's body before a thread takes it."""
    return head is not None and (head.length > 0 or head.encoded) \
        and not streams_body(head.path)


def without_expect(data: bytes, head: Head) -> bytes:
    """The request with its Expect field taken out: the loop sent the 100 already, and
    gunicorn would send another."""
    lines = data[:head.end - len(_END_OF_HEAD)].split(b"\r\n")
    kept = [line for line in lines if line.partition(b":")[0].strip().lower() != b"expect"]
    return b"\r\n".join(kept) + _END_OF_HEAD + data[head.end:]
