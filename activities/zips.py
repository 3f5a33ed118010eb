"""Accepting a zip archive of activity files (an account export): check it from its
central directory, store it as it came, commit the Archive that the reconciler expands."""

from __future__ import annotations

import hashlib
import zipfile
from typing import IO

import structlog
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Q

from activities import ingest, metrics, storage
from activities.ingest import Accepted, Rejected
from activities.models import Archive, ArchiveMember, Upload
from core import zipdir
from work import clock, tracing, triggers

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
    ingest.check_idempotency_key(idempotency_key)
    if limited:
        ingest.check_limits(owner)
    size, sha256 = _measure(handle)
    if size > max_archive_bytes():
        raise Rejected(f"The archive is larger than the {settings.CAIRN_ARCHIVE_MAX_MB} MB "
                       "limit.", code="TooLarge", status=413)
    # A repeated key or content answers as the first time, a key reused with other content
    # is refused: all before anything is stored.
    earlier = ingest.existing(owner, sha256=sha256, idempotency_key=idempotency_key)
    replaced = None
    if earlier is not None:
        if earlier.replayed or not lost_activities(earlier.upload):
            return earlier  # re-uploading an archive imports nothing twice
        # The owner deleted some of its activities since: this upload brings them back as
        # new activities (the others answer as duplicates) and takes the old one's place.
        replaced = earlier.upload
    members = _check(handle)
    name = f"archives/{sha256[:2]}/{sha256}.zip"
    if not storage.is_recent(name):
        handle.seek(0)
        default_storage.save(name, File(handle))
    try:
        with tracing.span("archive commit"), transaction.atomic():
            if replaced is not None:  # only one live upload of some content (the constraint)
                Upload.objects.filter(id=replaced.id, deleted_at__isnull=True).update(
                    deleted_at=clock.now())
            upload = Upload.objects.create(
                owner=owner, sha256=sha256, size_bytes=size, kind=Upload.Kind.ARCHIVE,
                original_name=ingest.text(original_name, limit=255), file_name=name,
                idempotency_key=idempotency_key or None)
            now = clock.now()
            archive = Archive.objects.create(upload=upload, members_total=members, due_at=now,
                                             pending_since=now, trace_parent=tracing.parent())
            triggers.after_commit("archive", archive.id)
    except IntegrityError:  # the same archive or key committed meanwhile (the sweep
        # removes the stored archive if no row ever refers to it)
        earlier = ingest.existing(owner, sha256=sha256, idempotency_key=idempotency_key)
        if earlier is None:
            raise
        return earlier
    log.info("archive.accepted", upload_id=upload.id, archive_id=archive.id, members=members,
             size_bytes=size)
    return Accepted(upload=upload, activity=None, created=True)


def lost_activities(upload: Upload) -> bool:
    """Whether an archive's imported (or duplicate) files lost their activity: deleted by
    the owner (gone, or still being removed)."""
    return ArchiveMember.objects.filter(
        Q(activity__isnull=True) | Q(activity__deleted_at__isnull=False),
        archive__upload=upload,
        status__in=[ArchiveMember.Status.IMPORTED, ArchiveMember.Status.DUPLICATE],
    ).exists()


def _measure(handle: IO[bytes]) -> tuple[int, str]:
    handle.seek(0)
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    handle.seek(0)
    return size, digest.hexdigest()


def _check(handle: IO[bytes]) -> int:
    """The number of files in the archive, from its central directory alone. The entries
    are counted before zipfile lists them, and an archive whose entries share bytes or
    that inflates past CAIRN_ARCHIVE_MAX_INFLATED_MB is refused."""
    limit = settings.CAIRN_ARCHIVE_MAX_MEMBERS
    try:
        entries = zipdir.entries(handle, limit=limit)
        with zipfile.ZipFile(handle) as archive:  # what the expander will read
            members = sum(1 for info in archive.infolist() if not info.is_dir())
    except zipdir.TooMany as error:
        raise Rejected(f"The archive holds at least {error.at_least} entries; the limit is "
                       f"{limit}.", code="TooManyFiles", status=413) from None
    except (zipdir.Damaged, zipfile.BadZipFile, OSError, ValueError) as error:
        raise Rejected(f"This zip archive is damaged and cannot be read ({error}).",
                       code="BadArchive", status=422) from None
    shared = zipdir.overlapping(entries)
    if shared is not None:
        raise Rejected(f"Two entries of this archive share bytes (at offsets "
                       f"{shared[0].offset} and {shared[1].offset}), as zip bombs do; it is "
                       "refused.", code="BadArchive", status=422)
    inflated_mb = sum(entry.size for entry in entries) / 2**20
    if inflated_mb > settings.CAIRN_ARCHIVE_MAX_INFLATED_MB:
        raise Rejected(f"The archive's files inflate to {inflated_mb:.0f} MB; the limit is "
                       f"{settings.CAIRN_ARCHIVE_MAX_INFLATED_MB} MB.", code="TooLarge",
                       status=413)
    return members
