"""The web tier against real sockets, on the real `serve`: clients that stall in the
middle of a request head cannot stop it, and an upload is refused (401, 413) from its
head alone, before its body is read."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from activities import tokens
from tests import serving
from tests.conftest import subprocess_env

#: A fault-path bound, not a benchmark: /healthz answers in milliseconds when nothing
#: holds the server, and in 30 s (the sync worker's timeout) when stalled clients do.
PROMPT_S = 2.0
#: What a body "claims" in these tests: far more than any limit, never sent.
HUGE = 300 * 2**20


@pytest.fixture(scope="module")
def served(django_db_setup, django_db_blocker, tmp_path_factory):
    folder = tmp_path_factory.mktemp("serve")
    with django_db_blocker.unblock():
        # A small file limit, so that a file passing it is cheap to send.
        env = subprocess_env(CAIRN_DATA_DIR=str(folder), CAIRN_LOG_LEVEL="warning",
                             CAIRN_MAX_UPLOAD_MB="1")
    server = serving.start(env, log=folder / "serve.log")
    yield server
    serving.stop(server)


@pytest.mark.parametrize("stalled", [4, 50])
def test_clients_stalled_in_their_request_head_do_not_hold_the_server(served, stalled):
    sockets = serving.stalled_clients(served, stalled)
    try:
        elapsed, status = serving.timed_get(served, "/healthz")
    finally:
        for client in sockets:
            client.close()
    print(f"/healthz with {stalled} stalled clients: {elapsed:.3f} s")
    assert status == 200
    assert elapsed < PROMPT_S


def test_a_request_head_that_never_ends_is_dropped(served):
    from activities.webserver import HEAD_TIMEOUT_S

    [client] = serving.stalled_clients(served, 1)
    started = time.monotonic()
    try:
        client.settimeout(HEAD_TIMEOUT_S + 10)
        assert client.recv(1024) == b""  # closed by the server, nothing answered
    finally:
        client.close()
    assert HEAD_TIMEOUT_S - 1 < time.monotonic() - started < HEAD_TIMEOUT_S + 5


def _multipart_head(path: str, *, length: int, token: str | None = None,
                    query: str = "") -> str:
    auth = f"Authorization: Bearer {token}\n" if token else ""
    return (f"POST {path}{query} HTTP/1.1\nHost: 127.0.0.1\n{auth}"
            "Content-Type: multipart/form-data; boundary=cairnboundary\n"
            f"Content-Length: {length}\n\n")


_BODY_START = (b'--cairnboundary\r\nContent-Disposition: form-data; name="file"; '
               b'filename="big.fit"\r\n\r\n' + b"\x0e" * 64)

ROUTES = ["/api/v1/uploads", "/api/v3/uploads", "/upload/"]


def _answer_without_the_body(served, head: str) -> tuple[float, int, bytes]:
    """Send the head and the first bytes of the body, then wait for the answer."""
    client = serving.send_head(served, head, _BODY_START)
    try:
        return serving.read_status(client, timeout=10)
    finally:
        client.close()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ROUTES)
def test_an_upload_without_a_token_is_refused_before_its_body_is_read(served, path):
    elapsed, status, answer = _answer_without_the_body(served, _multipart_head(path,
                                                                               length=HUGE))
    # The page sends an anonymous visitor to the sign-in page; the APIs answer 401.
    assert status == (302 if path == "/upload/" else 401), answer[:300]
    assert elapsed < PROMPT_S


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/api/v1/uploads", "/api/v3/uploads"])
def test_an_upload_too_large_for_any_limit_is_413_before_its_body_is_read(served, user,
                                                                           path):
    head = _multipart_head(path, length=2 * 2**30, token=tokens.create(user))
    elapsed, status, answer = _answer_without_the_body(served, head)
    assert status == 413, answer[:300]
    assert elapsed < PROMPT_S


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["/api/v1/uploads", "/api/v3/uploads"])
def test_a_file_past_its_limit_is_cut_off_while_it_streams(served, user, path):
    # 20 MB announced (under the archive limit, so the head passes), a FIT file's first
    # 1.5 MB sent (past the 1 MB file limit): the answer comes without the other 18.5 MB.
    head = _multipart_head(path, length=20 * 2**20, token=tokens.create(user))
    client = serving.send_head(served, head, _BODY_START + b"\x0e" * (3 * 2**19))
    try:
        elapsed, status, answer = serving.read_status(client, timeout=10)
    finally:
        client.close()
    assert status == 413, answer[:300]
    assert elapsed < PROMPT_S


@pytest.mark.django_db(transaction=True)
def test_the_upload_page_refuses_a_body_too_large_before_reading_it(served, user, client):
    from django.middleware.csrf import _get_new_csrf_string

    client.force_login(user)
    # A session and a CSRF cookie, as a browser sends: the CSRF check would read the form.
    cookie = (f"sessionid={client.cookies['sessionid'].value}; "
              f"csrftoken={_get_new_csrf_string()}")
    head = _multipart_head("/upload/", length=2 * 2**30).replace(
        "Host: 127.0.0.1\n", f"Host: 127.0.0.1\nCookie: {cookie}\n")
    elapsed, status, answer = _answer_without_the_body(served, head)
    assert status == 413, answer[:300]
    assert elapsed < PROMPT_S


@pytest.mark.django_db(transaction=True)
def test_access_tokens_in_the_url_never_reach_the_logs(served, user):
    token = tokens.create(user)
    with pytest.raises(urllib.error.HTTPError):  # no file: a Strava fault, logged as any
        urllib.request.urlopen(urllib.request.Request(
            served.url(f"/api/v3/uploads?access_token={token}&data_type=fit"
                       "&client_secret=s3cr3t-client&refresh_token=r3fr3sh&code=0auth-c0de"),
            data=b"", method="POST"), timeout=10)
    time.sleep(0.5)  # gunicorn writes its access line after the answer
    logged = served.output()
    assert ("/api/v3/uploads?access_token=[redacted]&data_type=fit&client_secret=[redacted]"
            "&refresh_token=[redacted]&code=[redacted]") in logged
    assert token not in logged
    assert token[len(tokens.PREFIX):len(tokens.PREFIX) + 12] not in logged
    for secret in ("s3cr3t-client", "r3fr3sh", "0auth-c0de"):
        assert secret not in logged


def _slow_login(served, *, length: int = 200, sent: bytes = b"c", extra: str = ""):
    """A sign-in POST with a CSRF cookie (so Django's CSRF check would read its form) whose
    body stops after `sent`: what a client trickling a byte now and then looks like."""
    head = ("POST /login/ HTTP/1.1\nHost: 127.0.0.1\nCookie: csrftoken=" + "a" * 32 + "\n"
            "Content-Type: application/x-www-form-urlencoded\n"
            f"Content-Length: {length}\n{extra}\n")
    return serving.send_head(served, head, sent)


def test_clients_trickling_small_bodies_do_not_hold_the_server(served):
    # More slow bodies than the server has threads (2 processes of 8).
    sockets = [_slow_login(served) for _ in range(16)]
    try:
        time.sleep(0.5)  # every head is in, every body stalled
        elapsed, status = serving.timed_get(served, "/healthz", timeout=10)
    finally:
        for client in sockets:
            client.close()
    print(f"/healthz with 16 slow unauthenticated bodies: {elapsed:.3f} s")
    assert status == 200
    assert elapsed < PROMPT_S


def test_a_small_body_that_stalls_is_answered_408_and_closed(served):
    from activities.bodies import BODY_TIMEOUT_S

    client = _slow_login(served)
    started = time.monotonic()
    try:
        _elapsed, status, answer = serving.read_status(client, timeout=BODY_TIMEOUT_S + 10)
        assert status == 408, answer[:300]
        assert b'"RequestTimeout"' in answer
        client.settimeout(5)
        while client.recv(4096):
            pass  # the rest of the answer, then the server closes
    finally:
        client.close()
    assert BODY_TIMEOUT_S - 1 < time.monotonic() - started < BODY_TIMEOUT_S + 5


def test_a_small_body_sent_in_pieces_is_served_as_a_whole(served):
    body = b"username=nobody&password=wrong&csrfmiddlewaretoken=" + b"a" * 32
    client = _slow_login(served, length=len(body), sent=body[:10])
    try:
        time.sleep(1.5)
        client.sendall(body[10:])
        _elapsed, status, answer = serving.read_status(client, timeout=10)
    finally:
        client.close()
    # Its last bytes read too: the form's CSRF token, the cookie's, passed the check (the
    # sign-in page again, the password being wrong).
    assert status == 200, answer[:300]


def test_a_client_expecting_100_continue_gets_it_from_the_loop(served):
    body = b"username=nobody&password=wrong"
    client = _slow_login(served, length=len(body), sent=b"", extra="Expect: 100-continue\n")
    try:
        client.settimeout(10)
        assert client.recv(4096) == b"HTTP/1.1 100 Continue\r\n\r\n"
        client.sendall(body)
        _elapsed, status, answer = serving.read_status(client, timeout=10)
    finally:
        client.close()
    # The form read (it has no CSRF token: 403), and one 100 sent, not a second.
    assert status == 403 and b"100 Continue" not in answer


@pytest.mark.parametrize(("extra", "status"), [
    # Over what Django reads of a form (DATA_UPLOAD_MAX_MEMORY_SIZE).
    ("", 413),
    # A body of unknown length, which Django would not read.
    ("Transfer-Encoding: chunked\n", 411),
])
def test_a_small_body_route_refuses_what_it_would_not_read(served, extra, status):
    length = HUGE if not extra else 0
    head = ("POST /login/ HTTP/1.1\nHost: 127.0.0.1\n"
            "Content-Type: application/x-www-form-urlencoded\n"
            + (f"Content-Length: {length}\n" if not extra else extra) + "\n")
    client = serving.send_head(served, head, b"a")
    try:
        elapsed, answered, answer = serving.read_status(client, timeout=10)
    finally:
        client.close()
    assert answered == status, answer[:300]
    assert b'"message"' in answer
    assert elapsed < PROMPT_S


def test_serve_and_every_process_it_starts_cap_their_memory(served):

    def address_space(pid: int) -> str:
        limits = Path(f"/proc/{pid}/limits").read_text().splitlines()
        return next(line for line in limits if line.startswith("Max address space"))

    def children(pid: int) -> list[int]:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rpartition(")")[2].split()
            except OSError:
                continue  # gone meanwhile
            if int(fields[1]) == pid:
                found.append(int(stat.parent.name))
        return found

    started = children(served.process.pid)
    assert len(started) == 2  # gunicorn and the q2 cluster
    # The served processes read the setting from their environment: its default (this
    # test process runs with the cap off, tests/conftest.py).
    expected = str(int(os.environ.get("CAIRN_WORKER_MEMORY_MB", "2048")) * 2**20)
    for pid in [served.process.pid, *started, *children(started[0])]:
        assert expected in address_space(pid).split(), pid
