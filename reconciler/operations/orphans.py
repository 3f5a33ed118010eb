"""Stored files that no row refers to (a process died, or the database failed, between
storing a file and committing its row): deleted by the sweep once older than
storage.ORPHAN_GRACE, one folder of the store per step.

Only the storage API's listdir, get_modified_time and delete are used, so any backend
(local files, an object store) works alike.
"""

from __future__ import annotations

import time
from datetime import datetime

import structlog
from django.core.files.storage import default_storage

from activities import storage
from activities.models import Activity, Upload

log = structlog.get_logger(__name__)

#: Where uploads store files: originals/ab/<sha256>.<fmt>[.gz], archives/ab/<sha256>.zip.
ROOTS = ("originals", "archives")
EVERY_S = 60.0  # a full pass over 512 folders takes about 8 hours per worker
_CHUNK = 500  # names per "which of these are referred to" query


class Cursor:
    """Where this process's pass over the store's folders is, and when it last stepped
    (time.monotonic())."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Start the pass again, and step at the next sweep (tests)."""
        self.folder = 0
        self.last = -EVERY_S


CURSOR = Cursor()


def collect(*, now: datetime, force: bool = False) -> int:
    """At most every EVERY_S: the next folder's unreferenced files older than the grace
    period are deleted; returns how many."""
    if not force and time.monotonic() - CURSOR.last < EVERY_S:
        return 0
    CURSOR.last = time.monotonic()
    try:
        folders = [f"{root}/{name}" for root in ROOTS for name in _listdir(root)[0]]
        if not folders:
            return 0
        folder = folders[CURSOR.folder % len(folders)]
        CURSOR.folder += 1
        return collect_folder(folder, now=now)
    except storage.Unavailable as error:
        # The object store is away: the next pass goes on; the sweep must not stop.
        log.warning("storage.orphans_skipped", error=str(error))
        return 0


def collect_folder(folder: str, *, now: datetime) -> int:
    """Delete the files of one folder that no activity or archive refers to, and that are
    older than the grace period."""
    names = [f"{folder}/{name}" for name in _listdir(folder)[1]]
    deleted = 0
    for at in range(0, len(names), _CHUNK):
        chunk = names[at: at + _CHUNK]
        referred = set(Activity.objects.filter(file_name__in=chunk)
                       .values_list("file_name", flat=True))
        referred |= set(Upload.objects.filter(file_name__in=chunk)
                        .values_list("file_name", flat=True))
        for name in chunk:
            if name in referred:
                continue
            try:
                stored_at = default_storage.get_modified_time(name)
            except FileNotFoundError:
                continue  # deleted meanwhile
            if stored_at < now - storage.ORPHAN_GRACE:
                default_storage.delete(name)
                deleted += 1
                log.info("storage.orphan_deleted", file_name=name,
                         stored_at=stored_at.isoformat())
    return deleted


def _listdir(path: str) -> tuple[list[str], list[str]]:
    try:
        return default_storage.listdir(path)
    except FileNotFoundError:
        return [], []
