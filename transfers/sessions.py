"""Opening an upload session: a placeholder upload the client can poll at once, and a
session row that needs work until its bytes are in (transfers/settle.py)."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, F, Value, When

from activities import bodylimit, ingest
from activities.models import Upload
from transfers import store
from transfers.models import UploadSession
from work import clock

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: A PUT (or PATCH) that began just before the session expired may still be arriving: the
#: sweep gives it this long before it calls the session expired.
EXPIRY_GRACE = timedelta(minutes=10)


def parse_declared(*, size, sha256="") -> tuple[int, str]:
    """The declared size and SHA-256, checked; ingest.Rejected (400, 413) otherwise."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ingest.Rejected("'size' is the file's size in bytes, a whole number above 0.",
                              code="BadRequest", status=400)
    if size > bodylimit.largest_file():
        raise ingest.Rejected(bodylimit.too_large_message(), code="TooLarge", status=413)
    sha256 = sha256 or ""
    if sha256 and (not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower())):
        raise ingest.Rejected("'sha256' is the file's SHA-256 as 64 hexadecimal digits.",
                              code="BadRequest", status=400)
    return size, sha256.lower()


def open_session(*, owner: AbstractBaseUser, via: str, filename: str, size: int,
                 sha256: str = "", now: datetime | None = None) -> UploadSession:
    """A new session for a file of `size` bytes (checked by parse_declared first), counted
    against the owner's upload rate like a POST. Rejected (429) when the owner is limited."""
    ingest.check_limits(owner)
    now = now or clock.now()
    token = uuid.uuid4().hex
    key = store.object_key(token) if via == UploadSession.Via.PRESIGNED \
        else f"{store.ROOT}/tus/{token}"
    expires_at = now + timedelta(seconds=settings.CAIRN_SESSION_TTL_S)
    with transaction.atomic():
        # Its sha256 names the session, never content: the owner's real upload of these
        # bytes (or an earlier one) is found by content once they are in.
        upload = Upload.objects.create(
            owner=owner, sha256=f"session-{token}", size_bytes=size,
            original_name=ingest.text(filename, limit=255), kind=Upload.Kind.SESSION)
        return UploadSession.objects.create(
            owner=owner, upload=upload, via=via, key=key, original_name=upload.original_name,
            size_bytes=size, sha256=sha256, expires_at=expires_at,
            due_at=first_look(via, now=now, expires_at=expires_at), pending_since=now)


def first_look(via: str, *, now: datetime, expires_at: datetime) -> datetime:
    """When the sweep first looks: a presigned object may arrive any time (polled); a tus
    upload says when its last byte is in, so until then only its expiry matters."""
    if via == UploadSession.Via.PRESIGNED:
        return now + timedelta(seconds=settings.CAIRN_SESSION_POLL_S)
    return expires_at + EXPIRY_GRACE


def nudge(session_id: int, *, now: datetime | None = None) -> bool:
    """Make an uploading session due now (its bytes are said to be in); False if it is not
    waiting any more. The sweep still checks the store: this is only a hint."""
    now = now or clock.now()
    # A leased session keeps its due time (it is the lease's expiry: moving it would let
    # another sweeper take the lease); the new generation tells its holder to look again
    # at once rather than wait for the next poll (settle._release).
    return bool(UploadSession.objects.filter(
        id=session_id, needs_work=True, status=UploadSession.Status.UPLOADING).update(
        generation=F("generation") + 1,
        due_at=Case(When(lease_token__isnull=True, then=Value(now)), default=F("due_at"))))


def is_open(session: UploadSession, *, now: datetime) -> bool:
    """Whether the session still takes bytes."""
    return session.status == UploadSession.Status.UPLOADING and now < session.expires_at


def session_dict(session: UploadSession) -> dict:
    from activities.serialize import iso

    return {"id": session.id, "upload_id": session.upload_id, "via": session.via,
            "status": session.status, "size": session.size_bytes,
            "sha256": session.sha256 or None, "expires_at": iso(session.expires_at),
            "error": session.error_message or None, "error_code": session.error_code or None,
            "result_upload_id": session.result_id}
