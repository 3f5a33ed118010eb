"""Accepting an activity file: store it, commit the rows, nudge after commit.

One path for the API, the upload page and `import_activities`. The order is the
guarantee: the original is on disk before the row commits, and the row says it needs
work before anyone is told the upload succeeded. The nudge only makes it quicker (and is
sent after the answer, from a queue: reconciler/nudge_queue.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import IO

import structlog
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from activities import acceptance, limits, metrics, storage
from activities.models import Activity, Upload
from core import sniff
from work import clock, tracing, triggers

log = structlog.get_logger(__name__)


class Rejected(Exception):
    """An upload refused before anything was stored; `status` is the HTTP status to answer
    and `retry_after_s`, for a 429, when to come back."""

    def __init__(self, message: str, *, code: str, status: int,
                 retry_after_s: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Accepted:
    upload: Upload
    activity: Activity | None  # None for an archive: its activities come as it expands
    #: False when this owner had already uploaded the same content, or repeated an
    #: Idempotency-Key: nothing new was created.
    created: bool
    #: True when the Idempotency-Key was seen before: the answer repeats the first one.
    replayed: bool = False
    #: True when the activity is new and nothing in this request derived anything for it,
    #: so its answer needs no look at derived rows.
    nothing_derived: bool = False


def max_upload_bytes() -> int:
    return settings.CAIRN_MAX_UPLOAD_MB * 2**20


@dataclass(frozen=True, kw_only=True)
class Details:
    """What the uploader says about the activity, beside the file (cleaned: see text)."""

    name: str = ""
    external_id: str = ""
    description: str = ""
    trainer: bool = False
    commute: bool = False
    #: A sport chosen for the activity (an export's list), shown instead of the file's;
    #: "" leaves the file's.
    sport: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", text(self.name, limit=255))
        object.__setattr__(self, "external_id", text(self.external_id, limit=255))
        object.__setattr__(self, "description", text(self.description, limit=10_000))


def text(value: str, *, limit: int) -> str:
    """A client's text as the database can keep it: no NUL characters (PostgreSQL refuses
    them), no longer than the column."""
    return value.replace("\x00", "")[:limit]


NO_DETAILS = Details()


def accept_file(handle: IO[bytes], *, owner: AbstractBaseUser, original_name: str = "",
                details: Details = NO_DETAILS, idempotency_key: str | None = None,
                limited: bool = True) -> Accepted:
    """The one way in for a file as a client or operator sent it, whichever it is: a zip is
    streamed in as an archive (activities/zips.py), an activity file read (never more
    than one byte over the upload limit) and accepted. Rejected as accept() says."""
    from activities import zips  # zips builds on this module

    if zips.is_zip(handle):
        return zips.accept(handle, owner=owner, original_name=original_name,
                           idempotency_key=idempotency_key, limited=limited)
    return accept(handle.read(max_upload_bytes() + 1), owner=owner,
                  original_name=original_name, details=details,
                  idempotency_key=idempotency_key, limited=limited)


def accept(data: bytes, *, owner: AbstractBaseUser, original_name: str = "",
           details: Details = NO_DETAILS, idempotency_key: str | None = None,
           limited: bool = True) -> Accepted:
    """Store and commit one activity file, or raise Rejected (nothing stored).

    `limited=False` skips the rate limit and back-pressure (an operator's import)."""
    try:
        if limited:
            check_limits(owner)
        accepted = _accept(data, owner=owner, original_name=original_name, details=details,
                           idempotency_key=idempotency_key)
    except Rejected as error:
        metrics.UPLOADS.labels(result="refused", code=error.code).inc()
        log.info("upload.refused", error_code=error.code, size_bytes=len(data))
        raise
    result = "accepted" if accepted.created else "duplicate"
    metrics.UPLOADS.labels(result=result, code="").inc()
    return accepted


def _accept(data: bytes, *, owner: AbstractBaseUser, original_name: str, details: Details,
            idempotency_key: str | None) -> Accepted:
    """The inserts find duplicates by their conflicts (activities/acceptance.py): nothing is
    read before them, and an upload that conflicts is answered from the one it repeats."""
    check_idempotency_key(idempotency_key)
    payload = _inspect(data)
    for _ in range(2):
        accepted = _insert(data, payload, owner=owner, original_name=original_name,
                           details=details, idempotency_key=idempotency_key)
        if accepted is None:  # the same content (or key) is this owner's already
            accepted = existing(owner, sha256=payload.sha256, idempotency_key=idempotency_key)
        if accepted is not None:
            break
        # What the insert met was deleted before it could be read: insert once more.
    else:
        raise Rejected("The same file was being deleted at the same time; send it again.",
                       code="Conflict", status=409)
    if accepted.created and settings.CAIRN_INLINE_FALLBACK:
        accepted.activity.refresh_from_db()  # the fallback may have processed it already
    return accepted


def _insert(data: bytes, payload: sniff.Payload, *, owner: AbstractBaseUser,
            original_name: str, details: Details, idempotency_key: str | None
            ) -> Accepted | None:
    """The upload's stored original and its rows, committed; None (no row written) if the
    owner has a live upload of this content or key."""
    now = clock.estimate()  # the database's clock, without asking it each time
    upload = Upload(owner=owner, sha256=payload.sha256, size_bytes=len(data),
                    original_name=text(original_name, limit=255),
                    idempotency_key=idempotency_key or None, created_at=now)
    with tracing.span("upload commit"):  # the activity's work continues this span
        activity = _new_activity(payload, owner=owner, upload=upload, details=details,
                                 now=now)
        # Stored before the rows, outside their lock window (acceptance.py says why that
        # is safe for a duplicate too).
        storage.save_original(data, name=activity.file_name)
        created = acceptance.accept(upload, activity)
        if created:
            _nudge_after_commit(activity.id, payload.size)
    if created is None:
        return None
    if not created:  # an archive brought this content before: the upload points at it
        activity = Activity.objects.get(id=activity.id)
    upload.activity = activity
    log.info("upload.accepted", upload_id=upload.id, activity_id=activity.id,
             format=payload.format, gzipped=payload.gzipped, size_bytes=len(data),
             duplicate=not created)
    return Accepted(upload=upload, activity=activity, created=created,
                    nothing_derived=created and not settings.CAIRN_INLINE_FALLBACK)


def _new_activity(payload: sniff.Payload, *, owner: AbstractBaseUser, upload: Upload,
                  details: Details, now) -> Activity:
    """The (unsaved) activity a new file gives: needing work, due now."""
    return Activity(
        owner=owner, upload=upload, name=details.name[:255],
        external_id=details.external_id[:255], description=details.description,
        trainer=details.trainer, commute=details.commute, user_sport=details.sport,
        format=payload.format, sha256=payload.sha256,
        file_name=storage.original_name(sha256=payload.sha256, fmt=payload.format,
                                        gzipped=payload.gzipped),
        size_bytes=payload.size, created_at=now, due_at=now, pending_since=now,
        trace_parent=tracing.parent())


def accept_member(data: bytes, *, owner: AbstractBaseUser, upload: Upload,
                  details: Details = NO_DETAILS) -> tuple[Activity, bool]:
    """One activity file of an archive: its activity, and whether it is new (False: the
    owner already has this content, whose details stay as they are). `details`: what the
    export's list says of it. Rejected as for an upload. Runs inside the expander's
    fenced transaction."""
    payload = _inspect(data)
    existing = Activity.objects.live().filter(owner=owner, sha256=payload.sha256).first()
    if existing is not None:
        return existing, False
    return _activity(data, payload, owner=owner, upload=upload, details=details)


def _inspect(data: bytes) -> sniff.Payload:
    if len(data) > max_upload_bytes():
        raise Rejected(f"The file is larger than the {settings.CAIRN_MAX_UPLOAD_MB} MB limit.",
                       code="TooLarge", status=413)
    try:
        return sniff.inspect(data, max_inflated=max_upload_bytes()
                             * settings.CAIRN_MAX_INFLATE_RATIO)
    except sniff.TooLarge as error:
        raise Rejected(str(error), code="TooLarge", status=413) from None
    except sniff.UnsupportedFile as error:
        raise Rejected(str(error), code="UnsupportedFile", status=415) from None


def _activity(data: bytes, payload: sniff.Payload, *, owner: AbstractBaseUser, upload: Upload,
              details: Details) -> tuple[Activity, bool]:
    """The activity for this content: the owner's existing one (an archive brought it
    before), or a new one needing work, its original stored first, nudged after commit."""
    # A deleted activity does not count: the same bytes after a delete are a new one.
    existing = _one(Activity.objects.live().filter(owner=owner, sha256=payload.sha256))
    if existing is not None:
        return existing, False
    activity = _new_activity(payload, owner=owner, upload=upload, details=details,
                             now=clock.now())
    storage.save_original(data, name=activity.file_name)
    activity.save(force_insert=True)
    _nudge_after_commit(activity.id, payload.size)
    return activity, True


def _nudge_after_commit(activity_id: int, size_bytes: int) -> None:
    structlog.contextvars.bind_contextvars(activity_id=activity_id)
    # A nudge from the queue after the answer, or, with the inline fallback, here and now
    # (reconciler.nudges.after_upload, registered for the kind).
    triggers.after_commit("activity", activity_id, size_bytes=size_bytes)


def check_limits(owner: AbstractBaseUser) -> None:
    """Rejected (429) when the owner uploads too fast or too much work is waiting."""
    try:
        limits.check(owner, now=timezone.now())
    except limits.Limited as error:
        raise Rejected(str(error), code=error.code, status=429,
                       retry_after_s=error.retry_after_s) from None


def check_idempotency_key(idempotency_key: str | None) -> None:
    if idempotency_key is not None and (len(idempotency_key) > 255
                                        or not idempotency_key.isprintable()):
        raise Rejected("The Idempotency-Key must be at most 255 printable characters.",
                       code="BadIdempotencyKey", status=400)


def existing(owner: AbstractBaseUser, *, sha256: str,
             idempotency_key: str | None) -> Accepted | None:
    """The answer an earlier upload of this content or key gives (a file's or an
    archive's), None if there is none; Rejected if the key came with other content."""
    if idempotency_key:
        keyed = _one(Upload.objects.filter(owner=owner, idempotency_key=idempotency_key,
                                           deleted_at__isnull=True))
        if keyed is not None:
            if keyed.sha256 != sha256:
                raise Rejected("This Idempotency-Key was already used for a different file.",
                               code="IdempotencyKeyReused", status=422)
            return Accepted(upload=keyed, activity=keyed.activity, created=False,
                            replayed=True)
    same = _one(Upload.objects.filter(owner=owner, sha256=sha256, deleted_at__isnull=True))
    if same is None:
        return None
    log.info("upload.duplicate", upload_id=same.id)
    return Accepted(upload=same, activity=same.activity, created=False)


def _one(rows: QuerySet):
    """The row a unique key finds, or None; no ORDER BY (first() adds one), so the unique
    index answers alone."""
    return next(iter(rows[:1]), None)
