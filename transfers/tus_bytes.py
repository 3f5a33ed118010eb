"""Where a tus upload's bytes are, whatever the store: on fs a folder of chunks the sweep
concatenates (transfers/store.py); on s3 parts of a multipart upload the store assembles,
with staging objects as the buffer below a part's size (transfers/parts.py). The tus view
and the sweep ask only this module."""

from __future__ import annotations

from dataclasses import replace
from typing import IO

import structlog
from django.db import transaction

from activities import storage
from transfers import parts, store
from transfers.models import UploadSession

log = structlog.get_logger(__name__)


def offset(session: UploadSession) -> int:
    """How many bytes of the file are durably stored, as the store says."""
    return look(session)[0]


def look(session: UploadSession) -> tuple[int, parts.Layout | None]:
    """The offset, and on s3 the layout it was read from (for append)."""
    if store.is_object_store():
        layout = parts.read(session)
        return layout.offset, layout
    return store.offset(session.key), None


class Moved(Exception):
    """The upload is not at the offset a PATCH was sent for (another PATCH stored bytes
    there first): `offset` is where it is now."""

    def __init__(self, offset: int) -> None:
        super().__init__(f"The upload is at offset {offset}.")
        self.offset = offset


def append(session: UploadSession, *, at: int, handle: IO[bytes], length: int) -> int:
    """Store `length` bytes (the file `handle`, at its start) as the chunk at offset `at`,
    if the upload is still at `at` (Moved otherwise): durable when this returns. On s3,
    then send what makes whole parts (and assemble the file after its last byte); that may
    fail or be cut short without losing anything acknowledged: the next PATCH or the sweep
    does it. Returns the new offset (on s3 it may be further: bytes of a PATCH cut off
    earlier, stored beyond this one).

    The offset is read again and the chunk stored under a lock on the session's row, so of
    PATCHes racing at one offset exactly one stores its bytes and the others are told
    Moved: tus asks a server to let one PATCH at a time change an upload. On SQLite the
    lock is the database's write lock (BEGIN IMMEDIATE), held while the chunk is written."""
    with transaction.atomic():
        list(UploadSession.objects.select_for_update().filter(id=session.id)
             .values_list("id", flat=True))
        received, layout = look(session)
        if received != at:
            raise Moved(received)
        if not length:
            return at
        name = store.chunk_name(session.key, offset=at, length=length)
        store.save(name, handle)
    if layout is None:
        return at + length
    layout = replace(layout, chunks=[*layout.chunks, (at, length, name)])
    if not UploadSession.objects.filter(id=session.id,
                                        status=UploadSession.Status.UPLOADING).exists():
        store.delete(name)  # terminated meanwhile: the sweep discards the rest
        return at + length
    try:
        layout = parts.flush(session, layout, local=(at, handle))
    except (storage.Unavailable, FileNotFoundError) as error:
        log.warning("tus.flush_deferred", session_id=session.id, error=str(error))
    return layout.offset


def arrived(session: UploadSession) -> int | None:
    """The file's size once all of it is stored (on s3: assembled, which this finishes
    when a request could not), None until then."""
    if not store.is_object_store():
        received = store.offset(session.key)
        return received if received >= session.size_bytes else None
    layout = parts.read(session)
    if layout.offset < session.size_bytes:
        return None
    try:
        layout = parts.flush(session, layout)
    except FileNotFoundError as error:
        # A staging object went while it was read: another host sent its part meanwhile.
        raise storage.Unavailable(f"The upload's parts moved while read ({error}); "
                                  "trying again.") from None
    return session.size_bytes if layout.assembled else None


def opened(session: UploadSession) -> IO[bytes]:
    """The whole file, at its start (once arrived)."""
    if store.is_object_store():
        return parts.open_whole(session)
    return store.assemble(session.key, size=session.size_bytes)


def discard(session: UploadSession) -> None:
    """Remove every byte of the session from the store (multipart uploads aborted)."""
    if store.is_object_store():
        parts.discard(session)
    else:
        store.delete_folder(session.key)
