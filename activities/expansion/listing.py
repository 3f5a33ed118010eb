"""An export's list of its activities, read from the archive: Strava's activities.csv
(files by name) and Garmin's summarizedActivities JSON (files by the activity id in
their names, else by the time they were made). Which entry a file gets, and which
listed activities the archive lacks.

Read again on each resume: the lists are small beside the files, and their effect must
not depend on where the previous worker stopped.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.conf import settings

from core import exports, garmin_export

_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
               ValueError)


@dataclass(frozen=True)
class Listing:
    #: Member name -> what Strava's activities.csv says of it.
    by_name: dict[str, exports.Entry] = field(default_factory=dict)
    #: Garmin activity id -> what the summarizedActivities JSON says of it.
    by_id: dict[str, exports.Entry] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.by_name or self.by_id)

    def is_list(self, name: str) -> bool:
        """Whether this member is a list that was read (an unreadable one is judged as
        any other file)."""
        return bool(self.by_name and exports.is_list(name)
                    or self.by_id and garmin_export.is_list(name))

    def entry(self, name: str, created_at: float | None = None) -> exports.Entry | None:
        """What the lists say of the file `name`, made at `created_at` (Unix seconds,
        where the file says)."""
        found = self.by_name.get(name)
        if found is not None or not self.by_id:
            return found
        found = self.by_id.get(garmin_export.activity_id(name))
        if found is None and created_at is not None:
            found = garmin_export.by_time(self.by_id, created_at)
        return found

    def missing(self, held: set[str], matched: set[str]) -> list[exports.Entry]:
        """Listed activities whose file the archive lacks: Strava's files by name (not in
        `held`), then Garmin's activities no file was matched to (ids not in `matched`),
        each in their list's order of names or ids."""
        return ([entry for name, entry in sorted(self.by_name.items()) if name not in held]
                + [entry for key, entry in sorted(self.by_id.items(), key=_numeric)
                   if key not in matched])


def _numeric(item: tuple[str, exports.Entry]) -> tuple[int, str]:
    return len(item[0]), item[0]


def read(zipped: zipfile.ZipFile, members: list[zipfile.ZipInfo],
         is_unsafe: Callable[[str], bool]) -> Listing:
    """The lists of the archive's own members ({} without a readable one)."""
    return Listing(by_name=_strava(zipped, members, is_unsafe),
                   by_id=_garmin(zipped, members, is_unsafe))


def _strava(zipped: zipfile.ZipFile, members: list[zipfile.ZipInfo],
            is_unsafe: Callable[[str], bool]) -> dict[str, exports.Entry]:
    found = [info for info in members if exports.is_list(info.filename)
             and not is_unsafe(info.filename)]
    if not found:
        return {}
    info = min(found, key=lambda i: i.filename.count("/"))  # the export's own, not a copy
    if not _plausible(info, exports.MAX_BYTES):
        return {}
    try:
        with zipped.open(info) as member:
            data = member.read(exports.MAX_BYTES + 1)
    except _UNREADABLE:
        return {}
    if len(data) > exports.MAX_BYTES:
        return {}
    return exports.entries(data, member_name=info.filename)


def _garmin(zipped: zipfile.ZipFile, members: list[zipfile.ZipInfo],
            is_unsafe: Callable[[str], bool]) -> dict[str, exports.Entry]:
    """Every summarizedActivities JSON's activities (an export splits a long list)."""
    found: dict[str, exports.Entry] = {}
    for info in members:
        if not garmin_export.is_list(info.filename) or is_unsafe(info.filename):
            continue
        if not _plausible(info, garmin_export.MAX_BYTES):
            continue
        try:
            with zipped.open(info) as member:
                found.update(garmin_export.entries(member.read, member_name=info.filename))
        except _UNREADABLE:
            continue  # what another list gives still holds
    return found


def _plausible(info: zipfile.ZipInfo, limit: int) -> bool:
    """Small enough to read, and not inflating as a bomb does."""
    return info.file_size <= limit and (
        info.file_size / max(info.compress_size, 1) <= settings.CAIRN_ARCHIVE_MAX_RATIO)


def missing_message(entry: exports.Entry) -> str:
    named = f' "{entry.name}"' if entry.name else ""
    return (f"The export's {PurePosixPath(entry.listed_in).name} lists this file (activity "
            f"{entry.activity_id}{named}) but the archive does not hold it.")
