"""Secrets in logged URLs: every query parameter whose name says it carries one is hidden,
in a request line (gunicorn's %(r)s) and in a bare query string (%(q)s); the rest stays
readable."""

import pytest

from activities.redaction import redact


@pytest.mark.parametrize(("logged", "shown"), [
    ("GET /api/v3/uploads?access_token=abc&data_type=fit HTTP/1.1",
     "GET /api/v3/uploads?access_token=[redacted]&data_type=fit HTTP/1.1"),
    ("POST /api/v3/push_subscriptions?client_id=1&client_secret=cairn_xyz HTTP/1.1",
     "POST /api/v3/push_subscriptions?client_id=1&client_secret=[redacted] HTTP/1.1"),
    ("GET /cb?code=c0de&state=s&refresh_token=r HTTP/1.1",
     "GET /cb?code=[redacted]&state=s&refresh_token=[redacted] HTTP/1.1"),
    ("password=hunter2&username=alice", "password=[redacted]&username=alice"),
    ("token=t&api_key=k&secret=s&signature=x&X-Amz-Signature=y&X-Amz-Credential=z",
     "token=[redacted]&api_key=[redacted]&secret=[redacted]&signature=[redacted]"
     "&X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]"),
    ("GET /cb?hub.verify_token=v&hub.challenge=c HTTP/1.1",
     "GET /cb?hub.verify_token=[redacted]&hub.challenge=c HTTP/1.1"),
    # A name spelled in percent-escapes is the same name.
    ("GET /a?client%5Fsecret=s HTTP/1.1", "GET /a?client%5Fsecret=[redacted] HTTP/1.1"),
    ("GET /api/v1/activities?author=me&page=2 HTTP/1.1",
     "GET /api/v1/activities?author=me&page=2 HTTP/1.1"),
    ("GET /healthz HTTP/1.1", "GET /healthz HTTP/1.1"),
    ("", ""),
])
def test_secret_parameters_are_hidden(logged, shown):
    assert redact(logged) == shown


def test_gunicorns_error_lines_are_redacted_too():
    import logging

    from gunicorn.config import Config

    from activities.webserver import RedactingLogger

    logger = RedactingLogger(Config())
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.error_log.addHandler(handler)
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logger.exception("Error handling request %s", "/cb?client_secret=s3cr3t&x=1")
    logger.error("Invalid request %s", "/cb?password=pw")
    assert [r.getMessage() for r in records] == [
        "Error handling request /cb?client_secret=[redacted]&x=1",
        "Invalid request /cb?password=[redacted]"]
