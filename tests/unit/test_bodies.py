"""activities.bodies: which request bodies the web server reads before a thread takes them,
from the head alone (the served behaviour: tests/e2e/test_web_tier.py); and core.memory,
the address-space cap `serve` and `reconcile` set."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from activities import bodies

REPO = Path(__file__).resolve().parents[2]


def head(*fields: str, target: str = "/login/", rest: bytes = b"") -> bytes:
    return (f"POST {target} HTTP/1.1\r\nHost: x\r\n" + "".join(f"{f}\r\n" for f in fields)
            + "\r\n").encode() + rest


def test_a_head_says_the_path_length_and_where_the_body_starts():
    data = head("content-length:  12 ", "Expect: 100-Continue", target="/log%69n/?next=/a",
                rest=b"abc")
    parsed = bodies.parse(data)
    assert (parsed.method, parsed.path, parsed.length, parsed.encoded) == ("POST", "/login/",
                                                                         12, False)
    assert parsed.expects_continue and data[parsed.end:] == b"abc"
    assert bodies.without_expect(data, parsed) == head(
        "content-length:  12 ", target="/log%69n/?next=/a", rest=b"abc")


@pytest.mark.parametrize("data", [
    head("Content-Length: 5", "Content-Length: 5"),  # doubled: gunicorn refuses it
    head("Content-Length: -5"), head("Content-Length: 5x"),
    b"POST /login/ HTTP/1.1\r\nHost: x\r\n",  # not complete
    b"GARBAGE\r\n\r\n", head("No colon here"),
])
def test_a_head_this_module_cannot_read_goes_to_gunicorns_parser(data):
    assert bodies.parse(data) is None
    assert not bodies.buffered(bodies.parse(data))


@pytest.mark.django_db
def test_bodies_are_read_first_but_those_of_views_that_take_files():
    for path in ("/login/", "/api/v1/webhooks", "/admin/login/", "/no/such/page"):
        assert bodies.buffered(bodies.parse(head("Content-Length: 10", target=path))), path
    for path in ("/api/v1/uploads", "/api/v3/uploads", "/upload/", "/api/v1/tus/7",
                 "/api/v1/upload-sessions/7/content"):
        assert not bodies.buffered(bodies.parse(head("Content-Length: 10", target=path)))
    assert not bodies.buffered(bodies.parse(head(target="/login/")))  # no body


def test_what_the_loop_answers_itself(settings):
    assert bodies.refusal(bodies.parse(head("Transfer-Encoding: chunked"))).status == 411
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert bodies.refusal(bodies.parse(head("Content-Length: 1000"))) is None
    too_large = bodies.refusal(bodies.parse(head("Content-Length: 1001")))
    assert too_large.status == 413
    answer = too_large.answer()
    assert answer.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in answer
    assert answer.endswith(b'"message": "This request\'s body may be at most 1000 bytes."}}')


def _capped(script: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def test_the_memory_cap_limits_the_process_and_keeps_a_lower_one():
    assert _capped("""
        import resource
        from core import memory
        assert memory.cap(0) is None
        assert resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY
        memory.cap(1024)
        print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)
        try:
            bytearray(1200 << 20)
        except MemoryError:
            print("refused")
        memory.cap(4096)  # a lower limit already set stays
        print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)
    """) == ["1024", "refused", "1024"]
