"""The upload-session API: open a session, send the bytes (Cairn's own PUT on fs), nudge."""

from __future__ import annotations

import json
import tempfile

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse

from activities import bodylimit, ingest
from activities.views.api import api_error, api_view
from transfers import sessions, store
from transfers.models import UploadSession
from work import clock

log = structlog.get_logger(__name__)
_READ = 2**20


def refusal(error: ingest.Rejected) -> JsonResponse:
    response = api_error(error.code, str(error), error.status)
    if error.retry_after_s is not None:
        response["Retry-After"] = str(error.retry_after_s)
    return response


def owned(request: HttpRequest, session_id: int) -> UploadSession | None:
    return UploadSession.objects.filter(id=session_id, owner=request.user).first()


@api_view("POST")
def upload_sessions(request: HttpRequest) -> JsonResponse:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    if (not isinstance(body, dict) or not isinstance(body.get("filename", ""), str)
            or not isinstance(body.get("type", ""), str)):
        return api_error("BadRequest", 'Send JSON: {"filename": "...", "size": N} and '
                         'optionally "sha256" and "type".', 400)
    try:
        size, sha256 = sessions.parse_declared(
            size=body.get("size"), sha256=body.get("sha256", ""),
            filename=body.get("filename", ""), media_type=body.get("type", ""))
        session = sessions.open_session(owner=request.user, via=UploadSession.Via.PRESIGNED,
                                        filename=body.get("filename", ""), size=size,
                                        sha256=sha256)
    except ingest.Rejected as error:
        return refusal(error)
    log.info("session.opened", session_id=session.id, upload_id=session.upload_id,
             size_bytes=size)
    return JsonResponse(sessions.session_dict(session) | _target(request, session),
                        status=201)


def _target(request: HttpRequest, session: UploadSession) -> dict:
    """Where and how the client sends the bytes: the store itself (s3), or Cairn (fs)."""
    if store.is_object_store():
        expires_s = max(1, int((session.expires_at - clock.now()).total_seconds()))
        url, headers = store.presigned_put(session.key, size=session.size_bytes,
                                           sha256=session.sha256, expires_s=expires_s)
    else:
        url = request.build_absolute_uri(f"/api/v1/upload-sessions/{session.id}/content")
        headers = {"Content-Length": str(session.size_bytes)}
    return {"method": "PUT", "url": url, "headers": headers}


@api_view("GET")
def upload_session(request: HttpRequest, session_id: int) -> JsonResponse:
    session = owned(request, session_id)
    if session is None:
        return api_error("NotFound", f"No upload session {session_id}.", 404)
    return JsonResponse(sessions.session_dict(session))


@api_view("POST")
def complete(request: HttpRequest, session_id: int) -> JsonResponse:
    """Optional: the bytes are in, look now. The sweep finds them without it."""
    session = owned(request, session_id)
    if session is None:
        return api_error("NotFound", f"No upload session {session_id}.", 404)
    sessions.nudge(session.id)
    return JsonResponse(sessions.session_dict(session), status=202)


@bodylimit.streams_body  # read after the token and size checks
@api_view("PUT")
def content(request: HttpRequest, session_id: int) -> HttpResponse:
    """The bytes of a session, when the store is local files (fs): stored whole and
    durably, then the sweep ingests them as it would an object store's."""
    session = owned(request, session_id)
    if session is None:
        return api_error("NotFound", f"No upload session {session_id}.", 404)
    if session.via != UploadSession.Via.PRESIGNED:
        # A tus upload's key is the folder of its chunks: a whole file stored there would
        # take the folder's place.
        return api_error("Conflict", f"Upload session {session_id} is a tus upload: send "
                         f"its bytes with PATCH to /api/v1/tus/{session_id}.", 409)
    if store.is_object_store():
        return api_error("Conflict", "This session's bytes go to the object store: PUT them "
                         "to the session's url.", 409)
    if not sessions.is_open(session, now=clock.now()):
        return api_error("SessionClosed", "This upload session is expired or finished; "
                         "start a new one.", 410)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or -1)
    except ValueError:
        length = -1
    if length > session.size_bytes:
        return api_error("TooLarge", f"The body is larger than the {session.size_bytes} "
                         "bytes declared.", 413)
    if length != session.size_bytes:
        return api_error("BadRequest", f"Send exactly the {session.size_bytes} bytes "
                         "declared, with their Content-Length.", 400)
    with tempfile.TemporaryFile() as spool:
        received = 0
        while block := request.read(_READ):
            spool.write(block)
            received += len(block)
        if received != session.size_bytes:
            return api_error("BadRequest", f"Only {received} of {session.size_bytes} bytes "
                             "arrived; send them again.", 400)
        spool.seek(0)
        store.save(session.key, spool)
    sessions.nudge(session.id)
    return HttpResponse(status=200)
