"""Request ids: every log line of a request carries one, and the response returns it."""

from __future__ import annotations

import re
import time
import uuid

import structlog

log = structlog.get_logger("cairn.request")

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestLogMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
        finally:
            structlog.contextvars.clear_contextvars()
        response["X-Request-ID"] = request_id
        log.info("request.finished", request_id=request_id, method=request.method,
                 path=request.path, status=response.status_code,
                 ms=round((time.monotonic() - started) * 1000, 1))
        return response
