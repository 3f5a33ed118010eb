"""Originals on durable storage, under content-addressed names (never a client's file name)."""

from __future__ import annotations

import os
import tempfile
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.utils import timezone

from core.errors import DeriveError

#: A stored file no row refers to is deleted by the sweep once it is this old
#: (reconciler/operations/orphans.py): a file is stored before its row commits.
ORPHAN_GRACE = timedelta(hours=1)


class Unavailable(Exception):
    """The store of originals cannot be reached or failed (an object store that is down):
    nothing was stored or read, and trying again later may work. An upload answers 503
    StorageUnavailable with Retry-After; a worker's read is retried with backoff."""

    code = "StorageUnavailable"
    retry_after_s = 5


class DurableFileSystemStorage(FileSystemStorage):
    """Local files that are complete and on disk before `save` returns.

    A file is written under a temporary name, fsync'd and renamed into place, so a
    reader never sees half a file even when two uploads of the same content race, and
    an acknowledged upload survives a power cut.
    """

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name  # names are content hashes: the same name means the same bytes

    def _save(self, name: str, content) -> str:
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(dir=directory, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp_path, 0o640)
            os.replace(tmp_path, full_path)
        except BaseException:
            if os.path.exists(tmp_path):
                os.unlink(tmp_path)
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)  # the rename itself must survive a crash too
        finally:
            os.close(dir_fd)
        return name


def original_name(*, sha256: str, fmt: str, gzipped: bool) -> str:
    return f"originals/{sha256[:2]}/{sha256}.{fmt}{'.gz' if gzipped else ''}"


def save_original(data: bytes, *, name: str) -> None:
    """Store the bytes under `name` unless they are already there; returns once the store
    has them (Unavailable if it cannot say so)."""
    if not is_recent(name):
        default_storage.save(name, ContentFile(data))


def is_recent(name: str) -> bool:
    """Whether `name` is stored and young enough that the sweep leaves it alone until the
    row about to refer to it commits. An older copy (an orphan the sweep may be deleting)
    is stored again rather than trusted: a request has half the grace period to commit."""
    if not default_storage.exists(name):
        return False
    return default_storage.get_modified_time(name) > timezone.now() - ORPHAN_GRACE / 2


def read_original(name: str) -> bytes:
    """The original's bytes; a missing original is a permanent failure (it was deleted
    behind Cairn's back: only a new upload brings it back), a store that fails a transient
    one."""
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise DeriveError("The original file is missing from storage (it was deleted or "
                          "lost outside Cairn); upload the file again.",
                          code="OriginalMissing", permanent=True) from None
    except Unavailable as error:
        raise DeriveError(f"The original file could not be read: {error} It will be "
                          "retried.", code="StorageUnavailable", permanent=False) from error
