"""An archive inside the archive (Garmin's export keeps its activity files in
UploadedFiles_0-_Part1.zip, Part2...), opened within the limits the whole upload has.

One level is expanded. The archive's limits hold for it and its nested archives together:
a nested archive's entries count against CAIRN_ARCHIVE_MAX_MEMBERS with the rest (it
stands for its files, not itself), its files' sizes against
CAIRN_ARCHIVE_MAX_INFLATED_MB, and its central directory is checked as an upload's is
(entries counted before zipfile lists them, none sharing bytes) before anything of it
is read. Its files are then judged one by one as the archive's own are.

zipfile needs to seek in an archive, which a compressed member does not allow cheaply:
the nested archive is copied (never past its declared size) to an anonymous temporary
file that is gone when the expansion step ends.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings

from core import zipdir

_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Budget:
    """What the archive counts so far: its files (a nested archive expanded since counts
    as its files) and the bytes they inflate to."""

    members: int
    inflated: int


@dataclass(frozen=True)
class Opened:
    zipped: zipfile.ZipFile
    members: list[zipfile.ZipInfo]
    #: The archive's counts once this one stands for its files (None: counted before).
    admitted: Budget | None


class Refused(Exception):
    """The nested archive is not expanded; `code` and the message say why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def is_nested(name: str) -> bool:
    return PurePosixPath(name.replace("\\", "/")).suffix.lower() == ".zip"


@contextmanager
def opened(outer: zipfile.ZipFile, info: zipfile.ZipInfo, *,
           budget: Budget | None) -> Iterator[Opened]:
    """The nested archive `info` of `outer`, open; or Refused. `budget`: the archive's
    counts before this one is expanded, or None when it was admitted before (a resume:
    its entries are counted already, and the bytes it holds cannot have changed)."""
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > settings.CAIRN_ARCHIVE_MAX_RATIO:
        raise Refused("ZipBomb", f"The archive nested here inflates {ratio:.0f} times; "
                      "refused as a zip bomb.")
    with tempfile.TemporaryFile(prefix="cairn-nested-") as handle:
        try:
            with outer.open(info) as member:
                shutil.copyfileobj(member, handle, _COPY_CHUNK)
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
                ValueError) as error:
            raise Refused("CorruptFile", f"The archive nested here cannot be read from the "
                          f"archive ({error}).") from None
        yield _open(handle, info, budget)


def _open(handle, info: zipfile.ZipInfo, budget: Budget | None) -> Opened:
    limit = settings.CAIRN_ARCHIVE_MAX_MEMBERS
    # This archive stands for its files: the others leave it this many entries.
    room = limit if budget is None else limit - (budget.members - 1)
    try:
        entries = zipdir.entries(handle, limit=max(room, 0))
        zipped = zipfile.ZipFile(handle)
    except zipdir.TooMany as error:
        raise Refused("TooManyFiles", f"The archive nested here holds at least "
                      f"{error.at_least} entries; with the rest of the archive that passes "
                      f"the limit of {limit}.") from None
    except (zipdir.Damaged, zipfile.BadZipFile, OSError, ValueError) as error:
        raise Refused("BadArchive", f"The archive nested here is damaged and cannot be "
                      f"read ({error}).") from None
    shared = zipdir.overlapping(entries)
    if shared is not None:
        raise Refused("ZipBomb", f"Two entries of the archive nested here share bytes (at "
                      f"offsets {shared[0].offset} and {shared[1].offset}), as zip bombs "
                      "do; it is refused.")
    members = [member for member in zipped.infolist() if not member.is_dir()]
    if budget is None:
        return Opened(zipped=zipped, members=members, admitted=None)
    inflated = budget.inflated - info.file_size + sum(entry.size for entry in entries)
    if inflated > settings.CAIRN_ARCHIVE_MAX_INFLATED_MB * 2**20:
        raise Refused("TooLarge", _too_large(inflated))
    return Opened(zipped=zipped, members=members, admitted=Budget(
        members=budget.members - 1 + len(members), inflated=inflated))


def _too_large(inflated: int) -> str:
    return (f"With the archive nested here, the archive's files inflate to "
            f"{inflated / 2**20:.0f} MB; the limit is "
            f"{settings.CAIRN_ARCHIVE_MAX_INFLATED_MB} MB.")
