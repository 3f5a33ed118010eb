"""Request ids on every log line of a request, 503 (not 500) while the database or the
store of originals is away, and a Content-Security-Policy on every page."""

from __future__ import annotations

import re
import time
import uuid
from urllib.parse import urlsplit

import structlog
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse

from activities import storage

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
            response["X-Request-ID"] = request_id
            # Still inside the request's context: the line carries activity_id too.
            log.info("request.finished", method=request.method, path=request.path,
                     status=response.status_code,
                     ms=round((time.monotonic() - started) * 1000, 1))
            return response
        finally:
            structlog.contextvars.clear_contextvars()


class DatabaseUnavailableMiddleware:
    """The database or the store of originals is down or restarting: answer 503 with
    Retry-After, not a 500.

    The upload was not acknowledged, so a client that retries (with the same
    Idempotency-Key) loses nothing and duplicates nothing.
    """

    RETRY_AFTER_S = 5

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, storage.Unavailable):
            # The store of originals (an object store that is down): nothing was committed.
            log.warning("request.storage_unavailable", path=request.path,
                        error=str(exception))
            code = exception.code
            message = "The file store is unavailable; try again in a few seconds."
        elif isinstance(exception, (OperationalError, InterfaceError)):
            log.warning("request.database_unavailable", path=request.path,
                        error=str(exception))
            code = "Unavailable"
            message = "The database is unavailable; try again in a few seconds."
        else:
            return None
        if request.path.startswith("/api/"):
            response = JsonResponse({"error": {"code": code, "message": message}},
                                    status=503)
        else:
            response = HttpResponse(message, status=503, content_type="text/plain")
        response["Retry-After"] = str(self.RETRY_AFTER_S)
        return response


#: Pages load scripts, styles and images from Cairn alone and run no inline script or
#: style, so an injected tag or attribute does nothing. (`data:` images: the favicon.)
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; "
                           "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                           "form-action 'self'; frame-ancestors 'none'")


def _with_map_tiles(policy: str, tiles: str) -> str:
    """The policy with the tile server's origin added to img-src, when there are tiles
    ("{s}" subdomains become a wildcard)."""
    parts = urlsplit(tiles.replace("{s}", "*"))
    if not (parts.scheme and parts.netloc):
        return policy
    origin = f"{parts.scheme}://{parts.netloc}"
    return policy.replace("img-src 'self' data:", f"img-src 'self' data: {origin}")


class ContentSecurityPolicyMiddleware:
    """A strict CSP on HTML answers (a view that sets its own, as the preview SVG does,
    keeps it). The map tiles' origin (settings.CAIRN_MAP_TILES) is the one exception."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith("text/html"):
            response.headers.setdefault("Content-Security-Policy", _with_map_tiles(
                CONTENT_SECURITY_POLICY, settings.CAIRN_MAP_TILES))
        return response
