"""The sweep's step for upload sessions: observe the store, compare with what was
declared, act, record — one session at a time, under a lease.

1. A settled session (ingested or failed) whose bytes are still in the store: delete
   them, and it needs no more work.
2. Bytes arrived (a presigned object, or tus chunks up to the declared length): more than
   declared fails the session; otherwise they are ingested exactly like a POSTed file
   (ingest.accept_file: format from content, dedup, file or archive), the declared
   SHA-256 checked first.
3. Nothing (or not all) arrived and the session expired: it fails with UploadExpired.
4. Otherwise it waits: due again after CAIRN_SESSION_POLL_S (presigned) or at expiry (tus).

The result is recorded under the fence before the bytes are deleted (step 1 of the next
round), so a process that dies in between leaves work, never a lost upload. Ingesting
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
from django.db import transaction

from activities import ingest, storage
from core import backoff
from reconciler import clock, leases
from transfers import sessions, store, tus_bytes
from transfers.models import UploadSession

log = structlog.get_logger(__name__)
Status = UploadSession.Status


class Failed(Exception):
    """The session's bytes cannot become an upload: a reason code and a sentence."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def sweep(*, now: datetime, owner: str, limit: int = 10) -> int:
    """Lease due sessions and settle each; returns how many were leased."""
    taken = leases.lease(UploadSession, limit=limit, now=now, owner=owner)
    for lease in taken:
        settle(lease)
    return len(taken)


def settle(lease: leases.Lease) -> str:
    """One leased session, as the module says; returns what became of it."""
    session = UploadSession.objects.select_related("owner").get(id=lease.row_id)
    bound = log.bind(session_id=session.id, upload_id=session.upload_id, via=session.via)
    try:
        outcome = _settle(session, lease)
    except leases.LeaseLost:
        bound.warning("session.lease_lost", lease_token=lease.token)
        return "lease_lost"
    except storage.Unavailable as error:
        bound.warning("session.store_unavailable", error=str(error))
        _release(session, lease, due_at=backoff.next_attempt_at(
            session.attempts, now=clock.now(), base_s=settings.CAIRN_BACKOFF_BASE_S,
            cap_s=settings.CAIRN_BACKOFF_CAP_S))
        return "retrying"
    bound.info("session.settled", outcome=outcome)
    return outcome


def _settle(session: UploadSession, lease: leases.Lease) -> str:
    now = clock.now()
    if session.status != Status.UPLOADING:
        _delete_bytes(session)
        _record(session, lease, needs_work=False)
        return "cleaned"
    if session.attempts > settings.CAIRN_MAX_ATTEMPTS:
        return _fail(session, lease, Failed(
            f"The worker taking this file in stopped {session.attempts - 1} times before "
            "finishing; it will not be tried again.", code="WorkerDied"))
    size = _arrived(session)
    if size is None:
        if now >= session.expires_at + sessions.EXPIRY_GRACE:
            return _fail(session, lease, Failed(
                f"No complete file arrived before the session expired at "
                f"{session.expires_at:%Y-%m-%d %H:%M} UTC; start a new upload.",
                code="UploadExpired"))
        _release(session, lease, due_at=_next_look(session, now=now), attempts=0)
        return "waiting"
    try:
        result = _ingest(session, size)
    except Failed as error:
        return _fail(session, lease, error)
    _record(session, lease, status=Status.INGESTED, result=result.upload,
            due_at=clock.now())
    return "ingested"


def _arrived(session: UploadSession) -> int | None:
    """How many bytes arrived, None while the file is not (all) there. A presigned object
    is there whole or not at all; tus bytes count once they reach the declared length
    (assembled by the store on s3, which this finishes if the last PATCH could not)."""
    if session.via == UploadSession.Via.PRESIGNED:
        return store.stored_size(session.key)
    return tus_bytes.arrived(session)


def _ingest(session: UploadSession, size: int) -> ingest.Accepted:
    if size > session.size_bytes:
        raise Failed(f"The file sent is {size} bytes, more than the {session.size_bytes} "
                     "bytes declared; start a new upload with its real size.", code="TooLarge")
    if size < session.size_bytes:
        raise Failed(f"The file sent is {size} bytes, less than the {session.size_bytes} "
                     "bytes declared; start a new upload with its real size.",
                     code="SizeMismatch")
    with _opened(session) as handle:
        if session.sha256 and _sha256(handle) != session.sha256:
            raise Failed("The file's SHA-256 is not the one declared: it was changed or "
                         "cut on the way; send it again.", code="HashMismatch")
        try:
            # Limits were counted when the session opened; the store's bytes are read
            # through the same path as a POSTed file's.
            return ingest.accept_file(handle, owner=session.owner,
                                      original_name=session.original_name, limited=False)
        except ingest.Rejected as error:
            raise Failed(str(error), code=error.code) from None


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


def _fail(session: UploadSession, lease: leases.Lease, error: Failed) -> str:
    log.info("session.failed", session_id=session.id, error_code=error.code)
    _record(session, lease, status=Status.FAILED, error_code=error.code,
            error_message=str(error), due_at=clock.now())
    return "failed"


def _record(session: UploadSession, lease: leases.Lease, **fields) -> None:
    """The one writer of a leased session's state: under the fence, the lease handed back;
    LeaseLost when another holder has it now."""
    with transaction.atomic():
        leases.hold_row(UploadSession, session.id, lease.token, now=clock.now())
        fields.setdefault("attempts", 0)
        if "status" in fields:
            fields["settled_at"] = clock.now()
        UploadSession.objects.filter(id=session.id).update(
            lease_token=None, lease_owner="", lease_expires_at=None, **fields)


def _release(session: UploadSession, lease: leases.Lease, *, due_at: datetime,
             attempts: int | None = None) -> None:
    """Hand the lease back, due at `due_at`, or now if a nudge came meanwhile (the bytes
    may have arrived after this round looked)."""
    try:
        with transaction.atomic():
            now = clock.now()
            leases.hold_row(UploadSession, session.id, lease.token, now=now)
            nudged = UploadSession.objects.filter(id=session.id).exclude(
                generation=lease.generation).exists()
            UploadSession.objects.filter(id=session.id).update(
                lease_token=None, lease_owner="", lease_expires_at=None,
                due_at=now if nudged else due_at,
                attempts=session.attempts if attempts is None else attempts)
    except leases.LeaseLost:
        pass  # someone else has it now: theirs to settle


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
