"""Expanding an archive into activities, one member at a time, under a lease: the
archive kind's work (activities.expansion.kind leases and releases it).

Each member's outcome and the cursor move in one fenced transaction, so a worker killed
mid-archive leaves it exactly where it stopped: the next claimer resumes at the cursor,
and no member is ever imported twice (the owner's content hashes see to re-uploads).
"""

from __future__ import annotations

import time
import zipfile
import zlib
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath

import structlog
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from activities import ingest, limits, storage
from activities.expansion import listing, nested
from activities.models import Archive, ArchiveMember
from core import exports, fitpeek, sniff
from work import clock, kinds, leases
from work.leases import Lease
from work.outcomes import Done, Failed, Outcome, Wait

log = structlog.get_logger(__name__)
Status = ArchiveMember.Status


@dataclass(frozen=True)
class Verdict:
    """What to do with one member: import `data`, or record `status` with a reason."""

    data: bytes | None = None
    status: str = ""
    code: str = ""
    message: str = ""
    created_at: int | None = None  # when a FIT file says it was made (Unix seconds)


def expand(lease: Lease, *, budget_s: float | None = None) -> Outcome:
    """Expand the leased archive from its cursor on: Done once every member is recorded,
    Wait labelled "yielded" when out of time or while too much work waits (the rest is
    the sweep's), Wait while the store is away, Failed when it is not a readable zip.
    A lost lease raises LeaseLost."""
    deadline = None if budget_s is None else time.monotonic() + budget_s
    archive = Archive.objects.select_related("upload").get(id=lease.row_id)
    bound = log.bind(archive_id=archive.id, upload_id=archive.upload_id, worker=lease.owner)
    try:
        with default_storage.open(archive.upload.file_name, "rb") as handle, \
                zipfile.ZipFile(handle) as zipped:
            members = [info for info in zipped.infolist() if not info.is_dir()]
            listed = listing.read(zipped, members, _is_unsafe)
            for index in range(archive.cursor, len(members)):
                info = members[index]
                if nested.is_nested(info.filename) and not _is_unsafe(info.filename):
                    stopped = _expand_nested(lease, archive, zipped, members, index,
                                             listed, deadline, bound)
                else:
                    stopped = _stop(deadline, bound, index)
                    if not stopped:
                        verdict = _LIST if listed.is_list(info.filename) else judge(
                            zipped, info)
                        _record(lease, archive, index, info, verdict,
                                listed.entry(info.filename, verdict.created_at))
                if stopped:
                    return stopped
    except storage.Unavailable as error:
        # The object store is away: resume later, however long that lasts; never failed
        # for it, and no attempt is spent.
        bound.warning("archive.storage_unavailable", error=str(error))
        return Wait(until=clock.now() + timedelta(seconds=limits.BUSY_RETRY_S),
                    reason=error.code)
    except (zipfile.BadZipFile, FileNotFoundError) as error:
        bound.warning("archive.failed", error=str(error))
        return Failed("BadArchive", f"The archive cannot be read ({error}).",
                      fields={"expanded_at": clock.now()})
    matched = set(ArchiveMember.objects.filter(archive_id=archive.id).exclude(
        listed_as="").values_list("listed_as", flat=True))
    _missing(lease, listed.missing({info.filename for info in members}, matched))
    bound.info("archive.expanded", members=len(members))
    return Done(fields={"expanded_at": clock.now(), "error_code": "", "error_message": ""})


_LIST = Verdict(status=Status.SKIPPED, code="ActivityList",
                message="The export's list of activities: the names, descriptions, "
                        "sports and commute flags it gives are applied to the activities "
                        "imported.")
_EMPTY = Verdict(status=Status.SKIPPED, code="EmptyArchive",
                 message="An archive inside the archive, holding no files.")
_TOO_DEEP = Verdict(status=Status.FAILED, code="TooDeep",
                    message="An archive inside an archive inside the archive: only one "
                            "level of nesting is expanded; not imported.")


def _stop(deadline: float | None, bound, index: int) -> Wait | None:
    """A Wait labelled "yielded" when this step must end before the next file (out of
    time: due again at once; or too much work waiting); None to go on."""
    if deadline is not None and time.monotonic() > deadline:
        bound.info("archive.yielded", cursor=index)
        return Wait(until=clock.now(), label=YIELDED)
    if limits.pending_full():
        # An archive's files are uploads too: while CAIRN_MAX_PENDING fresh activities
        # wait, expanding pauses (pending, due later) as an upload would be refused.
        bound.info("archive.paused", cursor=index, reason="Busy")
        return Wait(until=clock.now() + timedelta(seconds=limits.BUSY_RETRY_S),
                    reason="Busy", label=YIELDED)
    return None


#: What the attempt log calls an expansion handed back for the rest to be done later.
YIELDED = "yielded"


def _expand_nested(lease: Lease, archive: Archive, zipped: zipfile.ZipFile,
                   members: list[zipfile.ZipInfo], index: int, listed: listing.Listing,
                   deadline: float | None, bound) -> Wait | None:
    """Expand the archive nested at `index` from its own cursor on (or record why it is
    not): None once done, else what `_stop` said."""
    info = members[index]
    state = Archive.objects.values("inner_cursor", "members_total", "inflated_bytes").get(
        id=archive.id)
    start = state["inner_cursor"]
    budget = None if start else nested.Budget(
        members=state["members_total"] or len(members),
        inflated=state["inflated_bytes"] or sum(m.file_size for m in members))
    try:
        with nested.opened(zipped, info, budget=budget) as inner:
            if not inner.members:  # recorded at once, as a refusal: it imports nothing
                _record(lease, archive, index, info, _EMPTY)
                return None
            for at in range(start, len(inner.members)):
                # The copy may have taken the step's time: one file is handled all the
                # same, so that a step always moves on.
                if stopped := _stop(deadline if at > start else None, bound, index):
                    return stopped
                member = inner.members[at]
                verdict = judge(inner.zipped, member, nested=True)
                name = f"{info.filename}/{member.filename}"
                _record(lease, archive, index, member, verdict,
                        listed.entry(name, verdict.created_at), within=at + 1, name=name,
                        last=at + 1 == len(inner.members),
                        admitted=inner.admitted if at == start else None)
    except nested.Refused as refusal:
        # Recorded however long reading it took (it imports nothing): never read again.
        _record(lease, archive, index, info,
                Verdict(status=Status.FAILED, code=refusal.code, message=str(refusal)))
        bound.warning("archive.nested_refused", index=index, code=refusal.code)
    return None


def judge(zipped: zipfile.ZipFile, info: zipfile.ZipInfo, *, nested: bool = False
          ) -> Verdict:
    """Read one member safely and say what it is; nothing here writes anything.
    `nested`: a file of an archive inside the archive, where archives go no deeper."""
    name = info.filename
    if _is_unsafe(name):
        return Verdict(status=Status.FAILED, code="UnsafeName",
                       message="The file's name points outside the archive; not imported.")
    if name.lower().endswith(".zip"):
        return _TOO_DEEP if nested else _NOT_EXPANDED
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
    return _classify(data, nested=nested)


_NOT_EXPANDED = Verdict(status=Status.SKIPPED, code="NestedArchive",
                        message="An archive inside the archive whose name does not end in "
                                ".zip is not expanded.")


def _classify(data: bytes, *, nested: bool = False) -> Verdict:
    if data.startswith(b"PK\x03\x04"):
        return _TOO_DEEP if nested else _NOT_EXPANDED
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
    return Verdict(data=data, created_at=fitpeek.time_created(content)
                   if fmt == sniff.FIT else None)


def _record(lease: Lease, archive: Archive, index: int, info: zipfile.ZipInfo,
            verdict: Verdict, entry: exports.Entry | None = None, *, within: int = 0,
            name: str = "", last: bool = True, admitted: nested.Budget | None = None
            ) -> None:
    """Import (or not) one member and move the cursor, in one fenced transaction. For the
    `within`-th file of the archive nested at `index`, the nested cursor moves instead,
    and the archive's cursor with its `last` file; `admitted`: the archive's counts once
    the nested archive stands for its files, recorded with its first file."""
    status, code, message, activity = verdict.status, verdict.code, verdict.message, None
    with transaction.atomic():
        leases.hold(kinds.get(lease.kind), lease, now=clock.now())
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
            archive_id=archive.id, index=index, within=within,
            name=(name or info.filename)[:1024], size_bytes=info.file_size, status=status,
            activity=activity, error_code=code, error_message=message,
            listed_as=entry.activity_id[:64] if entry is not None else "")
        moved = ({"inner_cursor": within} if within and not last
                 else {"cursor": index + 1, "inner_cursor": 0})
        if admitted is not None:
            moved |= {"members_total": admitted.members, "inflated_bytes": admitted.inflated}
        Archive.objects.filter(id=archive.id).update(**moved)
        # Only this attempt counts now, so that a long archive whose workers die for
        # other reasons is not given up on; one member that kills them is.
        leases.progressed(kinds.get(lease.kind), lease)


def _missing(lease: Lease, missing: list[exports.Entry]) -> None:
    """Record the files the export's list names but the archive lacks, after its own
    members, under the fence. Their indexes follow from the archive's count alone, so a
    holder that dies before its release and the next one that does it again add them
    once."""
    if not missing:
        return
    with transaction.atomic():
        leases.hold(kinds.get(lease.kind), lease, now=clock.now())
        after = Archive.objects.filter(id=lease.row_id).values_list(
            "members_total", flat=True).first() or 0
        ArchiveMember.objects.bulk_create(
            [ArchiveMember(archive_id=lease.row_id, index=after + k,
                           name=entry.file_name[:1024], size_bytes=0, status=Status.MISSING,
                           error_code="Missing", error_message=listing.missing_message(entry))
             for k, entry in enumerate(missing)], ignore_conflicts=True)


def _is_unsafe(name: str) -> bool:
    """A name that would escape a folder if anyone extracted it (we never do)."""
    path = PurePosixPath(name.replace("\\", "/"))
    return path.is_absolute() or ".." in path.parts or (len(name) > 1 and name[1] == ":")
