"""The zip being built, in local files under CAIRN_DATA_DIR/exports-building, kept
resumable between steps.

Each step appends its activities to the zip (and their rows to the CSV being gathered),
closes the zip so that its central directory is written, fsyncs both, and only then
records a checkpoint (the `.mark` file, written whole under a temporary name and renamed):
where the zip's data ends, the central directory that describes it, the CSV's length,
and the last activity in it. A worker killed anywhere leaves a checkpoint that describes
bytes already on disk; the next holder cuts the zip back to them, puts the recorded
directory after them, and goes on after the recorded activity: every activity lands in
the zip exactly once.

The files are named by the export's key and the lease's token. A new holder copies the
previous holder's checkpointed bytes into its own files rather than taking them over, so
that a holder that lost its lease but has not noticed yet (paused, not dead) writes only
into files nobody reads again. A holder on another host finds no checkpoint and starts
again from the first activity (still complete and each activity once; only slower).
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings

from exports import contents

_COPY = 1 << 20


def folder() -> Path:
    return Path(settings.CAIRN_DATA_DIR) / "exports-building"


@dataclass
class Staged:
    """This holder's files for one export, and its checkpoint."""

    stem: Path
    #: Activities in the zip, and the id of the last (they go in by id).
    done: int = 0
    cursor: int = 0
    #: Every member gets this time: the zip does not depend on when it was built.
    stamp: tuple = (1980, 1, 1, 0, 0, 0)

    @property
    def zip(self) -> Path:
        return self.stem.with_suffix(".zip")

    @property
    def csv(self) -> Path:
        return self.stem.with_suffix(".csv")

    @property
    def mark(self) -> Path:
        return self.stem.with_suffix(".mark")

    def append(self, written: Iterable[contents.Written], *, cursor: int) -> None:
        """Add these activities, each written as it comes (the last of them `cursor`), and
        checkpoint."""
        rows = io.StringIO()
        table = csv.writer(rows)
        count = 0
        with zipfile.ZipFile(self.zip, "a") as zipped:
            for one in written:
                for member in one.members:
                    info = zipfile.ZipInfo(member.name, date_time=self.stamp)
                    info.compress_type = contents.compression(member)
                    info.external_attr = 0o644 << 16
                    zipped.writestr(info, member.data)
                table.writerow(one.row)
                count += 1
        _sync(self.zip)
        with open(self.csv, "a", encoding="utf-8", newline="") as handle:
            handle.write(rows.getvalue())
        _sync(self.csv)
        self.done += count
        self.cursor = cursor
        self._checkpoint()

    def finish(self) -> Path:
        """Put activities.csv into the zip: the zip is complete. Its path."""
        with zipfile.ZipFile(self.zip, "a") as zipped:
            info = zipfile.ZipInfo(contents.CSV_NAME, date_time=self.stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zipped.writestr(info, self.csv.read_bytes())
        return self.zip

    def _checkpoint(self) -> None:
        with zipfile.ZipFile(self.zip) as zipped:
            data_end = zipped.start_dir
        with open(self.zip, "rb") as handle:
            handle.seek(data_end)
            directory = handle.read()
        head = json.dumps({"data_end": data_end, "csv_bytes": self.csv.stat().st_size,
                           "done": self.done, "cursor": self.cursor}).encode()
        temporary = self.mark.with_suffix(".mark-new")
        with open(temporary, "wb") as handle:
            handle.write(head + b"\n" + directory)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, self.mark)
        _sync_folder(self.mark.parent)


def opened(key: str, token: str, *, created_at: datetime) -> Staged:
    """This holder's staged files for the export `key`: the last checkpoint any holder on
    this host recorded, copied into files of its own, or an empty zip. Every other
    holder's files are removed."""
    place = folder()
    place.mkdir(parents=True, exist_ok=True)
    staged = Staged(stem=place / f"{key}-{token}",
                    stamp=max(created_at.timetuple()[:6], (1980, 1, 1, 0, 0, 0)))
    best = _best_checkpoint(place, key, token)
    if best is None:
        zipfile.ZipFile(staged.zip, "w").close()
        header = io.StringIO()
        csv.writer(header).writerow(contents.COLUMNS)
        staged.csv.write_text(header.getvalue(), encoding="utf-8", newline="")
    else:
        mark, head, directory = best
        source = mark.with_suffix("")
        _copy(source.with_suffix(".zip"), staged.zip, head["data_end"], tail=directory)
        _copy(source.with_suffix(".csv"), staged.csv, head["csv_bytes"])
        staged.done, staged.cursor = head["done"], head["cursor"]
    _sync(staged.zip)
    _sync(staged.csv)
    if best is not None:
        staged._checkpoint()
    discard(key, keep=token)
    return staged


def discard(key: str, *, keep: str = "") -> None:
    """Remove the staged files of export `key` (but those of the token `keep`)."""
    place = folder()
    if not place.exists():
        return
    for path in place.glob(f"{key}-*"):
        if keep and path.name.startswith(f"{key}-{keep}."):
            continue
        path.unlink(missing_ok=True)


def _best_checkpoint(place: Path, key: str, token: str) -> tuple[Path, dict, bytes] | None:
    """The checkpoint with the most activities among other holders' (a mark whose files
    are not all there, or cannot be read, is none)."""
    best = None
    for mark in place.glob(f"{key}-*.mark"):
        if mark.name.startswith(f"{key}-{token}."):
            continue
        try:
            raw = mark.read_bytes()
            line, directory = raw.split(b"\n", 1)
            head = json.loads(line)
            source = mark.with_suffix("")
            if (source.with_suffix(".zip").stat().st_size < head["data_end"]
                    or source.with_suffix(".csv").stat().st_size < head["csv_bytes"]):
                continue
        except (OSError, ValueError, KeyError):
            continue
        if best is None or head["done"] > best[1]["done"]:
            best = (mark, head, directory)
    return best


def _copy(source: Path, target: Path, length: int, *, tail: bytes = b"") -> None:
    with open(source, "rb") as reading, open(target, "wb") as writing:
        left = length
        while left > 0:
            block = reading.read(min(_COPY, left))
            if not block:
                raise OSError(f"{source} is shorter than its checkpoint")
            writing.write(block)
            left -= len(block)
        writing.write(tail)


def _sync(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _sync_folder(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


