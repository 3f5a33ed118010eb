"""The export kind's work on one leased row: build the zip, delete an expired one, or
remove one its owner deleted.

Building goes a chunk of CAIRN_EXPORT_CHUNK activities at a time, in id order: the chunk
is appended to the staged zip and checkpointed (exports.staging), then its progress is
recorded in the row under the fence. Once every activity is in, activities.csv is added
and the zip is put in the store of originals in one save (a local file, then one PUT on s3:
the store never holds half a zip, and there is no multipart upload to abort when a worker
dies; only a zip past S3's 5 GB limit for one PUT goes up in parts), and the row says
ready. A sweep round builds for a few seconds
and hands the row back (yielded); the next round resumes from the checkpoint.
"""

from __future__ import annotations

import time
from datetime import timedelta

import structlog
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from activities import storage
from activities.models import Activity
from exports import contents, staging
from exports.models import Export
from work import clock, kinds, leases
from work.leases import Lease
from work.outcomes import Done, Outcome, Wait

log = structlog.get_logger(__name__)
Status = Export.Status

#: How soon an export is tried again while the store is away.
STORE_AWAY_RETRY_S = 30
#: What the attempt log calls a build handed back for the rest to be done later.
YIELDED = "yielded"


def stored_name(export: Export) -> str:
    """Where the finished zip is kept in the store (known before it is there, so that a
    removal finds a zip whose save was not recorded)."""
    return f"exports/{export.key}.zip"


def run(lease: Lease, *, budget_s: float | None = None) -> Outcome:
    export = Export.objects.get(id=lease.row_id)
    bound = log.bind(export_id=export.id, worker=lease.owner)
    try:
        if export.status == Status.DELETED:
            return _remove(lease, export)
        if export.status == Status.READY:
            return _expire(lease, export, bound)
        if export.status in (Status.PENDING, Status.BUILDING):
            return _build(lease, export, budget_s, bound)
        return Done()  # failed or expired: nothing left to do
    except storage.Unavailable as error:
        # The store is away: go on later, however long that lasts; never failed for it.
        bound.warning("export.store_unavailable", error=str(error))
        return Wait(until=clock.now() + timedelta(seconds=STORE_AWAY_RETRY_S),
                    reason=storage.Unavailable.code)


def _build(lease: Lease, export: Export, budget_s: float | None, bound) -> Outcome:
    deadline = None if budget_s is None else time.monotonic() + budget_s
    staged = staging.opened(export.key, lease.token, created_at=export.created_at)
    resumed_from = staged.done
    # The work done so far was on another host (or lost): this holder goes to the end, so
    # that holders on two hosts cannot hand one export back and forth for ever.
    if export.done > 0 and staged.done == 0:
        deadline = None
    bound.info("export.building", resumed_from=resumed_from, total=export.total)
    while True:
        batch = list(Activity.objects.live()
                     .filter(owner_id=export.owner_id, id__gt=staged.cursor,
                             id__lte=export.last_activity_id)
                     .select_related("upload", "gear").order_by("id")
                     [:settings.CAIRN_EXPORT_CHUNK])
        if not batch:
            break
        staged.append(contents.chunk(export, batch), cursor=batch[-1].id)
        if not _recorded(lease, export, done=staged.done):
            return Done()  # deleted meanwhile: its new generation brings the removal
        if deadline is not None and time.monotonic() >= deadline:
            bound.info("export.yielded", done=staged.done)
            return Wait(until=clock.now(), label=YIELDED,
                        detail={"resumed_from": resumed_from, "done": staged.done})
    path = staged.finish()
    name = stored_name(export)
    size = path.stat().st_size
    _put(path, name, size=size)
    now = clock.now()
    with transaction.atomic():
        leases.hold(kinds.get(lease.kind), lease, now=now)
        Export.objects.filter(id=export.id, status__in=(Status.PENDING, Status.BUILDING)) \
            .update(status=Status.READY, file_name=name, size_bytes=size, done=staged.done,
                    total=staged.done, finished_at=now,
                    expires_at=now + timedelta(days=settings.CAIRN_EXPORT_KEEP_DAYS),
                    error_code="", error_message="")
    staging.discard(export.key)
    bound.info("export.ready", activities=staged.done, size_bytes=size)
    return Done(detail={"resumed_from": resumed_from, "done": staged.done,
                        "size_bytes": size})


#: The largest object one S3 PUT may carry (5 GB); a larger zip goes up in parts.
SINGLE_PUT_BYTES = 5 * 10**9
#: The parts of a zip larger than that (S3 allows 10,000 parts: up to 640 GB).
PART_BYTES = 64 * 2**20


def _put(path, name: str, *, size: int) -> None:
    """The finished zip into the store: one verified save (fs, or one PUT on s3), or on
    s3 past SINGLE_PUT_BYTES a multipart upload of the file (boto3's managed transfer,
    which aborts the upload when a part fails), its size checked after."""
    if settings.CAIRN_STORAGE != "s3" or size <= SINGLE_PUT_BYTES:
        with open(path, "rb") as handle:
            default_storage.save(name, File(handle, name=name))
        return
    from boto3.s3.transfer import TransferConfig

    client = default_storage.connection.meta.client
    key = default_storage._normalize_name(name)
    config = TransferConfig(multipart_threshold=PART_BYTES, multipart_chunksize=PART_BYTES)
    with default_storage._classified(name):
        client.upload_file(str(path), default_storage.bucket_name, key, Config=config)
        head = client.head_object(Bucket=default_storage.bucket_name, Key=key)
    if head.get("ContentLength") != size:
        raise storage.Unavailable(f"The object store holds {head.get('ContentLength')} "
                                  f"bytes of {name}, not the {size} sent.")


def _recorded(lease: Lease, export: Export, *, done: int) -> bool:
    """Record the progress under the fence (LeaseLost if it is gone); False when the
    export is no longer being built (its owner deleted it)."""
    with transaction.atomic():
        leases.hold(kinds.get(lease.kind), lease, now=clock.now())
        moved = Export.objects.filter(
            id=export.id, status__in=(Status.PENDING, Status.BUILDING)).update(
            status=Status.BUILDING, done=done)
        # Only this attempt counts now, so that a long export whose workers die for other
        # reasons is not given up on.
        leases.progressed(kinds.get(lease.kind), lease)
    return bool(moved)


def _expire(lease: Lease, export: Export, bound) -> Outcome:
    now = clock.now()
    if export.expires_at is None or export.expires_at > now:
        return Done()  # claimed for nothing (a nudge): its expiry makes it due again
    _delete_zip(export)
    with transaction.atomic():
        leases.hold(kinds.get(lease.kind), lease, now=now)
        Export.objects.filter(id=export.id, status=Status.READY).update(
            status=Status.EXPIRED, file_name="")
    bound.info("export.expired")
    return Done()


def _remove(lease: Lease, export: Export) -> Outcome:
    """Its owner deleted it: the zip, the staged files, then the row."""
    _delete_zip(export)
    staging.discard(export.key)
    with transaction.atomic():
        leases.hold(kinds.get(lease.kind), lease, now=clock.now())
        Export.objects.filter(id=export.id).delete()
    log.info("export.removed", export_id=export.id)
    return Done()


def _delete_zip(export: Export) -> None:
    try:
        default_storage.delete(stored_name(export))
    except FileNotFoundError:
        pass
