"""Accepting a zip archive of activity files (an account export): check it from its
central directory, store it as it came, commit the Archive that the reconciler expands."""

from __future__ import annotations

import hashlib
import zipfile
from functools import partial
from typing import IO

import structlog
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from activities import ingest
from activities.ingest import Accepted, Rejected
from activities.models import Archive, Upload
from reconciler import clock, metrics, nudges

log = structlog.get_logger(__name__)

_MAGIC = b"PK\x03\x04"
_CHUNK = 1 << 20


def is_zip(handle: IO[bytes]) -> bool:
    """Whether the file starts like a zip archive (the stream is left where it was)."""
    position = handle.tell()
    head = handle.read(4)
    handle.seek(position)
    return head == _MAGIC


def max_archive_bytes() -> int:
    return settings.CAIRN_ARCHIVE_MAX_MB * 2**20


def accept(handle: IO[bytes], *, owner: AbstractBaseUser, original_name: str = "",
           idempotency_key: str | None = None, limited: bool = True) -> Accepted:
    """Store and commit a zip archive, or raise Rejected (nothing stored). The file is
    read in chunks: an archive of a gigabyte never sits in memory."""
    try:
        accepted = _accept(handle, owner=owner, original_name=original_name,
                           idempotency_key=idempotency_key, limited=limited)
    except Rejected as error:
        metrics.UPLOADS.labels(result="refused", code=error.code).inc()
        raise
    metrics.UPLOADS.labels(result="accepted" if accepted.created else "duplicate",
                           code="").inc()
    return accepted


def _accept(handle: IO[bytes], *, owner: AbstractBaseUser, original_name: str,
            idempotency_key: str | None, limited: bool) -> Accepted:
    if limited:
        ingest.check_limits(owner)
    size, sha256 = _measure(handle)
    if size > max_archive_bytes():
        raise Rejected(f"The archive is larger than the {settings.CAIRN_ARCHIVE_MAX_MB} MB "
                       "limit.", code="TooLarge", status=413)
    existing = Upload.objects.filter(owner=owner, sha256=sha256).first()
    if existing is not None:  # re-uploading an archive imports nothing twice
        return Accepted(upload=existing, activity=None, created=False)
    members = _check(handle)
    name = f"archives/{sha256[:2]}/{sha256}.zip"
    if not default_storage.exists(name):
        handle.seek(0)
        default_storage.save(name, File(handle))
    try:
        with transaction.atomic():
            upload = Upload.objects.create(
                owner=owner, sha256=sha256, size_bytes=size, kind=Upload.Kind.ARCHIVE,
                original_name=ingest.text(original_name, limit=255), file_name=name,
                idempotency_key=idempotency_key or None)
            now = clock.now()
            archive = Archive.objects.create(upload=upload, members_total=members, due_at=now,
                                             pending_since=now)
            transaction.on_commit(partial(nudges.send_archive, archive.id))
    except IntegrityError:
        existing = Upload.objects.filter(owner=owner, sha256=sha256).first()
        if existing is None:
            raise
        return Accepted(upload=existing, activity=None, created=False)
    log.info("archive.accepted", upload_id=upload.id, archive_id=archive.id, members=members,
             size_bytes=size)
    return Accepted(upload=upload, activity=None, created=True)


def _measure(handle: IO[bytes]) -> tuple[int, str]:
    handle.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return size, digest.hexdigest()


def _check(handle: IO[bytes]) -> int:
    """The number of files in the archive, from its central directory alone."""
    try:
        with zipfile.ZipFile(handle) as archive:
            members = sum(1 for info in archive.infolist() if not info.is_dir())
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise Rejected(f"This zip archive is damaged and cannot be read ({error}).",
                       code="BadArchive", status=422) from None
    if members > settings.CAIRN_ARCHIVE_MAX_MEMBERS:
        raise Rejected(f"The archive holds {members} files; the limit is "
                       f"{settings.CAIRN_ARCHIVE_MAX_MEMBERS}.", code="TooManyFiles",
                       status=413)
    return members
