"""Expanding an archive into activities, one member at a time, under a lease.

Each member's outcome and the cursor move in one fenced transaction, so a worker killed
mid-archive leaves it exactly where it stopped: the next claimer resumes at the cursor,
and no member is ever imported twice (the owner's content hashes see to re-uploads).
"""

from __future__ import annotations

import time
import zipfile
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePosixPath

import structlog
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest

from activities import ingest, limits, storage
from activities.models import Archive, ArchiveMember
from core import exports, fitpeek, sniff
from reconciler import clock, expired, leases

log = structlog.get_logger(__name__)
Status = ArchiveMember.Status


@dataclass(frozen=True, kw_only=True)
class ArchiveClaim:
    archive_id: int
    token: str
    owner: str
    generation: int


@dataclass(frozen=True)
class Verdict:
    """What to do with one member: import `data`, or record `status` with a reason."""

    data: bytes | None = None
    status: str = ""
    code: str = ""
    message: str = ""


def claim(*, limit: int, now: datetime, owner: str) -> list[ArchiveClaim]:
    """Lease archives to expand; one whose workers kept dying on it is given up on."""
    expired.bury(Archive, now=now)
    return [ArchiveClaim(archive_id=t.row_id, token=t.token, owner=owner,
                         generation=t.generation)
            for t in leases.lease(Archive, limit=limit, now=now, owner=owner)]


def claim_one(archive_id: int, *, now: datetime, owner: str) -> ArchiveClaim | None:
    taken = leases.lease_one(Archive, archive_id, now=now, owner=owner)
    if taken is None:
        return None
    return ArchiveClaim(archive_id=archive_id, token=taken.token, owner=owner,
                        generation=taken.generation)


def expand(claim: ArchiveClaim, *, budget_s: float | None = None) -> str:
    """Expand from the cursor on: "expanded", "yielded" (out of time; the lease is handed
    back), "failed" (not a readable zip) or "lease_lost"."""
    deadline = None if budget_s is None else time.monotonic() + budget_s
    archive = Archive.objects.select_related("upload").get(id=claim.archive_id)
    bound = log.bind(archive_id=archive.id, upload_id=archive.upload_id, worker=claim.owner)
    try:
        try:
            with default_storage.open(archive.upload.file_name, "rb") as handle, \
                    zipfile.ZipFile(handle) as zipped:
                members = [info for info in zipped.infolist() if not info.is_dir()]
                listed = _activity_list(zipped, members)
                for index in range(archive.cursor, len(members)):
                    if deadline is not None and time.monotonic() > deadline:
                        _finish(claim, done=False)
                        bound.info("archive.yielded", cursor=index)
                        return "yielded"
                    if limits.pending_full():
                        # An archive's files are uploads too: while CAIRN_MAX_PENDING fresh
                        # activities wait, expanding pauses (pending, due later) as an
                        # upload would be refused.
                        _finish(claim, done=False, due_in_s=limits.BUSY_RETRY_S)
                        bound.info("archive.paused", cursor=index, reason="Busy")
                        return "yielded"
                    info = members[index]
                    verdict = (_LIST if listed and exports.is_list(info.filename)
                               else judge(zipped, info))
                    _record(claim, archive, index, info, verdict, listed.get(info.filename))
        except storage.Unavailable as error:
            # The object store is away: resume later, as when busy; never failed for it.
            _finish(claim, done=False, due_in_s=limits.BUSY_RETRY_S)
            bound.warning("archive.storage_unavailable", error=str(error))
            return "yielded"
        except (zipfile.BadZipFile, FileNotFoundError) as error:
            _finish(claim, done=True, code="BadArchive",
                    message=f"The archive cannot be read ({error}).")
            bound.warning("archive.failed", error=str(error))
            return "failed"
        _finish(claim, done=True, missing=_missing(listed, members))
    except leases.LeaseLost:
        bound.warning("lease.lost")
        return "lease_lost"
    bound.info("archive.expanded", members=len(members))
    return "expanded"


_LIST = Verdict(status=Status.SKIPPED, code="ActivityList",
                message="The export's list of activities: the names, descriptions, "
                        "sports and commute flags it gives are applied to the activities "
                        "imported.")


def _activity_list(zipped: zipfile.ZipFile, members: list[zipfile.ZipInfo]
                   ) -> dict[str, exports.Entry]:
    """Member name -> what Strava's activities.csv says of it ({} without a readable
    list). Read again on each resume: it is small, and its effect must not depend on
    where the previous worker stopped."""
    found = [info for info in members if exports.is_list(info.filename)
             and not _is_unsafe(info.filename)]
    if not found:
        return {}
    info = min(found, key=lambda i: i.filename.count("/"))  # the export's own, not a copy
    if info.file_size > exports.MAX_BYTES or (
            info.file_size / max(info.compress_size, 1) > settings.CAIRN_ARCHIVE_MAX_RATIO):
        return {}
    try:
        with zipped.open(info) as member:
            data = member.read(exports.MAX_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
            ValueError):
        return {}
    if len(data) > exports.MAX_BYTES:
        return {}
    return exports.entries(data, member_name=info.filename)


def _missing(listed: dict[str, exports.Entry], members: list[zipfile.ZipInfo]
             ) -> list[exports.Entry]:
    """Files the export's list names that the archive does not hold, in name order."""
    held = {info.filename for info in members}
    return [entry for name, entry in sorted(listed.items()) if name not in held]


def judge(zipped: zipfile.ZipFile, info: zipfile.ZipInfo) -> Verdict:
    """Read one member safely and say what it is; nothing here writes anything."""
    name = info.filename
    if _is_unsafe(name):
        return Verdict(status=Status.FAILED, code="UnsafeName",
                       message="The file's name points outside the archive; not imported.")
    if name.lower().endswith(".zip"):
        return Verdict(status=Status.SKIPPED, code="NestedArchive",
                       message="An archive inside the archive is not expanded.")
    limit = ingest.max_upload_bytes()
    if info.file_size > limit:
        return Verdict(status=Status.FAILED, code="TooLarge",
                       message=f"The file is larger than the {limit // 2**20} MB limit.")
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > settings.CAIRN_ARCHIVE_MAX_RATIO:
        return Verdict(status=Status.FAILED, code="ZipBomb",
                       message=f"The file inflates {ratio:.0f} times; refused as a zip bomb.")
    try:
        with zipped.open(info) as member:
            data = member.read(limit + 1)  # the declared size may lie: never more
    except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError,
            ValueError) as error:
        return Verdict(status=Status.FAILED, code="CorruptFile",
                       message=f"The file cannot be read from the archive ({error}).")
    return _classify(data)


def _classify(data: bytes) -> Verdict:
    if data.startswith(b"PK\x03\x04"):
        return Verdict(status=Status.SKIPPED, code="NestedArchive",
                       message="An archive inside the archive is not expanded.")
    try:
        fmt, content = sniff.unwrap(data, max_inflated=ingest.max_upload_bytes()
                                    * settings.CAIRN_MAX_INFLATE_RATIO)
    except sniff.UnsupportedFile:
        return Verdict(status=Status.SKIPPED, code="NotAnActivityFile",
                       message="Not a FIT, GPX or TCX file.")
    except sniff.TooLarge as error:
        return Verdict(status=Status.FAILED, code="TooLarge", message=str(error))
    kind = fitpeek.file_type(content) if fmt == sniff.FIT else "activity"
    if kind not in ("activity", None):
        return Verdict(status=Status.SKIPPED, code="NotAnActivity",
                       message=f"A FIT {kind} file, not a recorded activity.")
    return Verdict(data=data)


def _record(claim: ArchiveClaim, archive: Archive, index: int, info: zipfile.ZipInfo,
            verdict: Verdict, entry: exports.Entry | None = None) -> None:
    """Import (or not) one member and move the cursor, in one fenced transaction."""
    status, code, message, activity = verdict.status, verdict.code, verdict.message, None
    with transaction.atomic():
        leases.hold_row(Archive, claim.archive_id, claim.token, now=clock.now())
        if verdict.data is not None:
            try:
                details = ingest.NO_DETAILS if entry is None else ingest.Details(
                    name=entry.name, description=entry.description, commute=entry.commute,
                    sport=exports.sport(entry))
                activity, created = ingest.accept_member(
                    verdict.data, owner=archive.upload.owner, upload=archive.upload,
                    details=details)
                status = Status.IMPORTED if created else Status.DUPLICATE
            except ingest.Rejected as error:
                status = Status.SKIPPED if error.code == "UnsupportedFile" else Status.FAILED
                code, message = error.code, str(error)
        ArchiveMember.objects.create(
            archive_id=archive.id, index=index, name=info.filename[:1024],
            size_bytes=info.file_size, status=status, activity=activity, error_code=code,
            error_message=message)
        # Progress: only this attempt counts now, so that a long archive whose workers
        # die for other reasons is not given up on; one member that kills them is.
        Archive.objects.filter(id=archive.id).update(cursor=index + 1, attempts=1)


def _finish(claim: ArchiveClaim, *, done: bool, code: str = "", message: str = "",
            due_in_s: int = 0, missing: list[exports.Entry] | None = None) -> None:
    """Hand the lease back: finished (expanded or failed: the attempts count restarts), or
    to be resumed by the sweep in `due_in_s` seconds (out of time or paused: the attempt is
    handed back too)."""
    now = clock.now()
    with transaction.atomic():
        leases.hold_row(Archive, claim.archive_id, claim.token, now=now)
        fields = {"lease_token": None, "lease_owner": "", "lease_expires_at": None,
                  "due_at": now + timedelta(seconds=due_in_s),
                  "attempts": Greatest(F("attempts") - 1, 0)}
        if done:
            fields.update(needs_work=False, pending_since=None, expanded_at=now,
                          error_code=code, error_message=message, attempts=0)
            # With the end, in one transaction: a retried finish never adds them twice.
            after = Archive.objects.filter(id=claim.archive_id).values_list(
                "members_total", flat=True).first() or 0
            ArchiveMember.objects.bulk_create(
                ArchiveMember(archive_id=claim.archive_id, index=after + k,
                              name=entry.file_name[:1024], size_bytes=0,
                              status=Status.MISSING, error_code="Missing",
                              error_message=_missing_message(entry))
                for k, entry in enumerate(missing or ()))
        Archive.objects.filter(id=claim.archive_id).update(**fields)


def _missing_message(entry: exports.Entry) -> str:
    named = f' "{entry.name}"' if entry.name else ""
    return (f"The export's activities.csv lists this file (activity {entry.activity_id}"
            f"{named}) but the archive does not hold it.")


def _is_unsafe(name: str) -> bool:
    """A name that would escape a folder if anyone extracted it (we never do)."""
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")
