"""tus 1.0.0 (core, creation, termination, expiration) at /api/v1/tus, authenticated like
the rest of the API. Each PATCH is stored as a chunk before it is acknowledged (on s3
then sent on as multipart parts: transfers/tus_bytes.py), and the offset a HEAD answers is
read back from the store, so any web host answers any request and a crash loses nothing
acknowledged. When the last byte is in, the session is due and the sweep ingests the file
(transfers/settle.py).

Every answer carries `Cairn-Upload-Id`: the upload the file becomes (poll
GET /api/v1/uploads/<id>).
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from email.utils import format_datetime
from typing import IO

import structlog
from django.http import HttpRequest, HttpResponse, UnreadablePostError
from django.views.decorators.csrf import csrf_exempt

from activities import bodylimit, ingest, storage
from activities.views.api import api_error, api_view
from transfers import sessions, tus_bytes
from transfers.models import UploadSession
from transfers.views import owned, refusal
from work import clock

log = structlog.get_logger(__name__)

VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration"
_READ = 2**20
#: Content-Type of a PATCH body, as the protocol names it.
OFFSET_STREAM = "application/offset+octet-stream"


def _tus(response: HttpResponse, session: UploadSession | None = None) -> HttpResponse:
    response["Tus-Resumable"] = VERSION
    if session is not None:
        response["Cairn-Upload-Id"] = str(session.upload_id)
        response["Upload-Expires"] = format_datetime(session.expires_at, usegmt=True)
    return response


def _error(code: str, message: str, status: int) -> HttpResponse:
    return _tus(api_error(code, message, status))


def _version_refused(request: HttpRequest) -> HttpResponse | None:
    if request.headers.get("Tus-Resumable") != VERSION:
        response = _error("UnsupportedVersion", f"Send 'Tus-Resumable: {VERSION}'.", 412)
        response["Tus-Version"] = VERSION
        return response
    return None


@csrf_exempt  # OPTIONS is public; POST is `create`, token- or CSRF-checked by api_view
def collection(request: HttpRequest) -> HttpResponse:
    if request.method == "OPTIONS":
        # Discovery holds no data: answered without a token, as clients probe first.
        response = _tus(HttpResponse(status=204))
        response["Tus-Version"] = VERSION
        response["Tus-Extension"] = EXTENSIONS
        response["Tus-Max-Size"] = str(bodylimit.largest_file())
        return response
    return create(request)


@api_view("POST")
def create(request: HttpRequest) -> HttpResponse:
    """creation: Upload-Length (required: no deferred lengths) and Upload-Metadata
    (`filename`, optional `filetype` and `sha256` in hex)."""
    refused = _version_refused(request)
    if refused is not None:
        return refused
    try:
        length = int(request.headers.get("Upload-Length", ""))
    except ValueError:
        return _error("BadRequest", "Send the file's size in Upload-Length (deferred "
                      "lengths are not supported).", 400)
    metadata = _metadata(request.headers.get("Upload-Metadata", ""))
    if metadata is None:
        return _error("BadRequest", "Upload-Metadata is comma-separated 'key base64value' "
                      "pairs.", 400)
    filename = metadata.get("filename") or metadata.get("name") or ""
    try:
        size, sha256 = sessions.parse_declared(
            size=length, sha256=metadata.get("sha256", ""), filename=filename,
            media_type=metadata.get("filetype") or metadata.get("type") or "")
        session = sessions.open_session(owner=request.user, via=UploadSession.Via.TUS,
                                        size=size, sha256=sha256, filename=filename)
    except ingest.Rejected as error:
        return _tus(refusal(error))
    log.info("tus.created", session_id=session.id, upload_id=session.upload_id,
             size_bytes=size)
    response = _tus(HttpResponse(status=201), session)
    response["Location"] = request.build_absolute_uri(f"/api/v1/tus/{session.id}")
    return response


def _metadata(header: str) -> dict[str, str] | None:
    pairs: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in header.split(","))):
        key, _, value = item.partition(" ")
        try:
            pairs[key] = base64.b64decode(value, validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return None
    return pairs


@bodylimit.streams_body  # read after the token and size checks
@api_view("HEAD", "PATCH", "DELETE")
def resource(request: HttpRequest, session_id: int) -> HttpResponse:
    session = owned(request, session_id)
    if session is None:
        return _error("NotFound", f"No tus upload {session_id}.", 404)
    if session.via != UploadSession.Via.TUS:
        return _error("Conflict", f"Upload session {session_id} is not a tus upload: PUT "
                      "its bytes to the url its session gave.", 409)
    if request.method == "HEAD":
        return _head(session)
    refused = _version_refused(request)
    if refused is not None:
        return refused
    if request.method == "DELETE":
        return _terminate(session)
    return _patch(request, session)


def _head(session: UploadSession) -> HttpResponse:
    if session.status == UploadSession.Status.FAILED:
        return _tus(HttpResponse(status=410), session)
    if session.status == UploadSession.Status.INGESTED:
        received = session.size_bytes  # its chunks may be cleaned up already
    else:
        try:
            received = tus_bytes.offset(session)
        except storage.Unavailable as error:
            return _unavailable(error)
        if received == session.size_bytes:
            # All in, but the PATCH that brought the last byte may have died before it
            # said so: the sweep looks now rather than at expiry.
            sessions.nudge(session.id)
        elif not sessions.is_open(session, now=clock.now()):
            # Expired, bytes missing, not failed by the sweep yet: it takes no more (a
            # PATCH is refused alike) and will fail, so the client starts a new upload.
            return _tus(HttpResponse(status=410), session)
    response = _tus(HttpResponse(status=200), session)
    response["Upload-Offset"] = str(received)
    response["Upload-Length"] = str(session.size_bytes)
    response["Cache-Control"] = "no-store"
    return response


def _patch(request: HttpRequest, session: UploadSession) -> HttpResponse:
    """Store the body as the chunk at Upload-Offset, which must be the stored offset: asked
    before the body is read (a stale offset is refused at once), and again as the chunk is
    stored (of PATCHes sent together at one offset, one stores and the others get 409). A
    body cut short (the connection dropped) is stored as far as it came, so the client
    resumes from there."""
    if request.content_type != OFFSET_STREAM:
        return _error("UnsupportedMediaType", f"Send the bytes as {OFFSET_STREAM}.", 415)
    if not sessions.is_open(session, now=clock.now()):
        return _tus(api_error("SessionClosed", "This upload expired or was finished.",
                              410), session)
    try:
        claimed = int(request.headers.get("Upload-Offset", ""))
        received = tus_bytes.offset(session)
    except ValueError:
        return _error("BadRequest", "Send Upload-Offset, the offset the bytes start at.",
                      400)
    except storage.Unavailable as error:
        return _unavailable(error)
    if claimed != received:
        return _moved(session, received)
    with tempfile.TemporaryFile() as spool:
        length = _spool(request, session, spool, room=session.size_bytes - received)
        if length is None:
            return _tus(api_error("TooLarge", f"The body goes past the {session.size_bytes} "
                                  "bytes of Upload-Length.", 413), session)
        try:
            end = tus_bytes.append(session, at=received, handle=spool, length=length)
        except tus_bytes.Moved as moved:
            log.info("tus.raced", session_id=session.id, offset=received)
            return _moved(session, moved.offset)
        except storage.Unavailable as error:
            return _unavailable(error)
    if end == session.size_bytes:
        sessions.nudge(session.id)  # the sweep ingests it now rather than at expiry
        log.info("tus.completed", session_id=session.id, upload_id=session.upload_id)
    response = _tus(HttpResponse(status=204), session)
    response["Upload-Offset"] = str(end)
    return response


def _moved(session: UploadSession, offset: int) -> HttpResponse:
    return _tus(api_error("OffsetMismatch", f"The upload is at offset {offset}; ask with "
                          "HEAD and send from there.", 409), session)


def _spool(request: HttpRequest, session: UploadSession, spool: IO[bytes], *,
           room: int) -> int | None:
    """The body, read into `spool` as far as it came (left at its start); None when it is
    declared larger than the room left, before any of it is read."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > room:
        return None
    received = 0
    try:
        while block := request.read(_READ):
            spool.write(block)
            received += len(block)
    except (OSError, UnreadablePostError):
        log.info("tus.cut", session_id=session.id, received_bytes=received)
    spool.seek(0)
    return received


def _terminate(session: UploadSession) -> HttpResponse:
    """termination: the session fails at once; the sweep deletes the chunks (and aborts
    the multipart upload on s3)."""
    UploadSession.objects.filter(id=session.id, status=UploadSession.Status.UPLOADING).update(
        status=UploadSession.Status.FAILED, error_code="Terminated",
        error_message="The client ended this upload before it was complete.",
        needs_work=True, due_at=clock.now(), settled_at=clock.now())
    return _tus(HttpResponse(status=204))


def _unavailable(error: storage.Unavailable) -> HttpResponse:
    response = _error(error.code, str(error), 503)
    response["Retry-After"] = str(error.retry_after_s)
    return response
