"""The upload-session kind's work: observe the store, compare with what was
declared, act, record — one session at a time, under a lease.

1. A settled session (ingested or failed) whose bytes are still in the store: delete
   them, and it needs no more work.
2. Bytes arrived (a presigned object, or tus chunks up to the declared length): more than
   declared fails the session; otherwise they are ingested exactly like a POSTed file
   (ingest.accept_file: format from content, dedup, file or archive), the declared
   SHA-256 checked first.
3. Nothing (or not all) arrived and the session expired: it fails with UploadExpired.
4. Otherwise it waits: due again after CAIRN_SESSION_POLL_S (presigned) or at expiry (tus).
   While the store is away it waits too (looked at again every STORE_AWAY_RETRY_S): never
   failed for it, and no attempt is spent.

`look` returns the outcome; the kernel records it under the fence (work.leases.release)
before the bytes are deleted (step 1 of the next round), so a process that dies in
between leaves work, never a lost upload. Ingesting
twice is harmless: the second time finds the same content and answers with that upload.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import IO

import structlog
from django.conf import settings
from django.core.files.storage import default_storage

from activities import ingest, storage
from transfers import sessions, store, tus_bytes
from transfers.models import UploadSession
from work import clock, leases
from work.outcomes import Done, Failed, Outcome, Wait

log = structlog.get_logger(__name__)
Status = UploadSession.Status


class Refused(Exception):
    """The session's bytes cannot become an upload: a reason code and a sentence."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def look(lease: leases.Lease) -> Outcome:
    """The session kind's work on one leased row (the module's steps 1-4)."""
    session = UploadSession.objects.select_related("owner").get(id=lease.row_id)
    bound = log.bind(session_id=session.id, upload_id=session.upload_id, via=session.via)
    try:
        outcome = _settle(session)
    except storage.Unavailable as error:
        # The store is away: look again later, however long that lasts. Not a failure:
        # the session still has until it expires, and nothing was lost.
        bound.warning("session.store_unavailable", error=str(error))
        return Wait(until=clock.now() + timedelta(seconds=STORE_AWAY_RETRY_S),
                    reason=error.code)
    bound.info("session.settled", outcome=type(outcome).__name__.lower(),
               error_code=getattr(outcome, "code", None) or None)
    return outcome


#: How soon a session is looked at again while the store is away.
STORE_AWAY_RETRY_S = 30


def _settle(session: UploadSession) -> Outcome:
    now = clock.now()
    if session.status != Status.UPLOADING:
        _delete_bytes(session)
        return Done()
    size = _arrived(session)
    if size is None:
        if now >= session.expires_at + sessions.EXPIRY_GRACE:
            return _failed(Failed(
                "UploadExpired",
                f"No complete file arrived before the session expired at "
                f"{session.expires_at:%Y-%m-%d %H:%M} UTC; start a new upload."), now=now)
        return Wait(until=_next_look(session, now=now), reason="NotArrived")
    try:
        result = _ingest(session, size)
    except Refused as error:
        return _failed(Failed(error.code, str(error)), now=now)
    # Recorded before the bytes are deleted (the next round's step 1): a death in
    # between leaves work, never a lost upload.
    return Done(fields={"status": Status.INGESTED, "result": result.upload,
                        "settled_at": clock.now()}, again=True)


def _arrived(session: UploadSession) -> int | None:
    """How many bytes arrived, None while the file is not (all) there. A presigned object
    is there whole or not at all; tus bytes count once they reach the declared length
    (assembled by the store on s3, which this finishes if the last PATCH could not)."""
    if session.via == UploadSession.Via.PRESIGNED:
        return store.stored_size(session.key)
    return tus_bytes.arrived(session)


def _ingest(session: UploadSession, size: int) -> ingest.Accepted:
    if size > session.size_bytes:
        raise Refused(f"The file sent is {size} bytes, more than the {session.size_bytes} "
                     "bytes declared; start a new upload with its real size.", code="TooLarge")
    if size < session.size_bytes:
        raise Refused(f"The file sent is {size} bytes, less than the {session.size_bytes} "
                     "bytes declared; start a new upload with its real size.",
                     code="SizeMismatch")
    with _opened(session) as handle:
        if session.sha256 and _sha256(handle) != session.sha256:
            raise Refused("The file's SHA-256 is not the one declared: it was changed or "
                         "cut on the way; send it again.", code="HashMismatch")
        try:
            # Limits were counted when the session opened; the store's bytes are read
            # through the same path as a POSTed file's.
            return ingest.accept_file(handle, owner=session.owner,
                                      original_name=session.original_name, limited=False)
        except ingest.Rejected as error:
            raise Refused(str(error), code=error.code) from None


@contextmanager
def _opened(session: UploadSession) -> Iterator[IO[bytes]]:
    """The session's bytes as one file, closed after."""
    if session.via == UploadSession.Via.PRESIGNED:
        handle = default_storage.open(session.key, "rb")
    else:
        handle = tus_bytes.opened(session)
    try:
        yield handle
    finally:
        handle.close()


def _sha256(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while block := handle.read(2**20):
        digest.update(block)
    handle.seek(0)
    return digest.hexdigest()


def _failed(failure: Failed, *, now: datetime) -> Failed:
    """The session failed for good; its bytes are deleted next round."""
    log.info("session.failed", error_code=failure.code)
    return Failed(failure.code, failure.message,
                  fields={"status": Status.FAILED, "settled_at": now}, again=True)


def _next_look(session: UploadSession, *, now: datetime) -> datetime:
    if session.via == UploadSession.Via.PRESIGNED:
        return min(now + timedelta(seconds=settings.CAIRN_SESSION_POLL_S),
                   session.expires_at + sessions.EXPIRY_GRACE)
    return session.expires_at + sessions.EXPIRY_GRACE


def _delete_bytes(session: UploadSession) -> None:
    if session.via == UploadSession.Via.PRESIGNED:
        store.delete(session.key)
    else:
        tus_bytes.discard(session)
