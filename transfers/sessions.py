"""Opening an upload session: a placeholder upload the client can poll at once, and a
session row that needs work until its bytes are in (transfers/settle.py).

What a session may declare is bounded: an activity file's size up to CAIRN_MAX_UPLOAD_MB,
a zip archive's (by its declared name or type) up to CAIRN_ARCHIVE_MAX_MB; and what one
user holds open at once, CAIRN_SESSION_MAX_OPEN sessions declaring together at most
CAIRN_SESSION_MAX_OPEN_MB, so that sessions cannot reserve the store for a day."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Case, Count, F, Sum, Value, When

from activities import bodylimit, caps, ingest, zips
from activities.models import Upload
from transfers import store
from transfers.models import UploadSession
from work import clock, tracing

_SHA256 = re.compile(r"[0-9a-f]{64}")
#: A PUT (or PATCH) that began just before the session expired may still be arriving: the
#: sweep gives it this long before it calls the session expired.
EXPIRY_GRACE = timedelta(minutes=10)
#: Media types that declare a zip archive (browsers name a .zip with any of these).
ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed",
                       "application/x-zip"})


def is_archive(*, filename: str, media_type: str = "") -> bool:
    """Whether the client declares a zip archive, by the file's name or media type."""
    return (filename.strip().lower().endswith(".zip")
            or media_type.strip().lower() in ZIP_TYPES)


def parse_declared(*, size, sha256="", filename: str = "",
                   media_type: str = "") -> tuple[int, str]:
    """The declared size and SHA-256, checked; ingest.Rejected (400, 413) otherwise. Only a
    declared archive may be larger than an activity file may (the sweep still goes by
    content: a large file that is not a zip is refused then)."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ingest.Rejected("'size' is the file's size in bytes, a whole number above 0.",
                              code="BadRequest", status=400)
    if size > bodylimit.largest_file():
        raise ingest.Rejected(bodylimit.too_large_message(), code="TooLarge", status=413)
    if size > ingest.max_upload_bytes() and not is_archive(filename=filename,
                                                           media_type=media_type):
        raise ingest.Rejected(
            f"An activity file may be {settings.CAIRN_MAX_UPLOAD_MB} MB at most; only a zip "
            f"archive may be larger (up to {zips.max_archive_bytes() // 2**20} MB): declare "
            "it with a name ending in .zip.", code="TooLarge", status=413)
    sha256 = sha256 or ""
    if sha256 and (not isinstance(sha256, str) or not _SHA256.fullmatch(sha256.lower())):
        raise ingest.Rejected("'sha256' is the file's SHA-256 as 64 hexadecimal digits.",
                              code="BadRequest", status=400)
    return size, sha256.lower()


def open_session(*, owner: AbstractBaseUser, via: str, filename: str, size: int,
                 sha256: str = "", now: datetime | None = None) -> UploadSession:
    """A new session for a file of `size` bytes (checked by parse_declared first), counted
    against the owner's upload rate like a POST. Rejected (429) when the owner is limited
    or holds as many open sessions, or declared bytes, as the caps allow."""
    ingest.check_limits(owner)
    now = now or clock.now()
    token = uuid.uuid4().hex
    key = store.object_key(token) if via == UploadSession.Via.PRESIGNED \
        else f"{store.ROOT}/tus/{token}"
    expires_at = now + timedelta(seconds=settings.CAIRN_SESSION_TTL_S)
    with transaction.atomic():
        caps.hold(owner)
        _check_open(owner, size=size, now=now)
        # Its sha256 names the session, never content: the owner's real upload of these
        # bytes (or an earlier one) is found by content once they are in.
        upload = Upload.objects.create(
            owner=owner, sha256=f"session-{token}", size_bytes=size,
            original_name=ingest.text(filename, limit=255), kind=Upload.Kind.SESSION)
        return UploadSession.objects.create(
            owner=owner, upload=upload, via=via, key=key, original_name=upload.original_name,
            size_bytes=size, sha256=sha256, expires_at=expires_at,
            due_at=first_look(via, now=now, expires_at=expires_at), pending_since=now,
            trace_parent=tracing.parent())


def _check_open(owner: AbstractBaseUser, *, size: int, now: datetime) -> None:
    """Rejected (429) when another session would pass the owner's caps on open sessions
    (still taking bytes: uploading and not expired). Called under caps.hold."""
    held = UploadSession.objects.filter(owner=owner, status=UploadSession.Status.UPLOADING,
                                        expires_at__gt=now).aggregate(
        count=Count("id"), declared=Sum("size_bytes"))
    if held["count"] >= settings.CAIRN_SESSION_MAX_OPEN:
        raise ingest.Rejected(
            f"You have {held['count']} uploads still open, the most one account may have "
            f"({settings.CAIRN_SESSION_MAX_OPEN}): finish one, or end it (tus: DELETE), before "
            "starting another; an unfinished one closes at its expires_at.",
            code="TooManySessions", status=429)
    cap_mb = settings.CAIRN_SESSION_MAX_OPEN_MB
    if size > cap_mb * 2**20:  # never, however many finish
        raise ingest.Rejected(f"The upload is larger than the {cap_mb} MB one account may "
                              "have open at once.", code="TooLarge", status=413)
    declared = held["declared"] or 0
    if declared + size > cap_mb * 2**20:
        raise ingest.Rejected(
            f"Your open uploads declare {declared // 2**20} MB; with this one they would "
            f"pass the {cap_mb} MB one account may have open at once: finish or end one "
            "before starting another.", code="TooManySessions", status=429)


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
