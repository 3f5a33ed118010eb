"""Back-pressure, checked before anything is stored: a per-user upload rate, and a cap on
the fresh work waiting for workers."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, F, Q, Value, When

from activities.models import Activity, UploadWindow

WINDOW = timedelta(minutes=1)
#: What a client is told to wait when the queue of fresh work is full.
BUSY_RETRY_S = 30


class Limited(Exception):
    """Not now: try again after `retry_after_s` seconds."""

    def __init__(self, message: str, *, code: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after_s = retry_after_s


def check(owner: AbstractBaseUser, *, now: datetime) -> None:
    """Raise Limited if too much work is waiting or this owner uploads too fast; when
    not, count this upload against the owner's rate."""
    _check_pending()
    _take_rate(owner, now=now)


def _take_rate(owner: AbstractBaseUser, *, now: datetime) -> None:
    """Count one upload in the owner's current minute, or raise Limited. The window is
    fixed: it starts at the first upload after the last one ended. Every request that
    passes counts, whatever comes of it (a duplicate, a refused file)."""
    limit = settings.CAIRN_UPLOADS_PER_MINUTE
    if not limit:
        return
    ended = Q(started_at__lte=now - WINDOW)

    def count() -> bool:
        # Check and count in one statement: concurrent uploads queue on the row, and each
        # sees the count the one before left.
        return bool(UploadWindow.objects.filter(ended | Q(count__lt=limit), owner_id=owner.pk)
                    .update(started_at=Case(When(ended, then=Value(now)),
                                            default=F("started_at")),
                            count=Case(When(ended, then=Value(1)), default=F("count") + 1)))

    if count():
        return
    # Nothing counted: over the limit, or the owner's first upload (no row yet: made here
    # or by a concurrent first upload, then counted again).
    UploadWindow.objects.get_or_create(owner_id=owner.pk, defaults={"started_at": now})
    if count():
        return
    started = UploadWindow.objects.filter(owner_id=owner.pk).values_list(
        "started_at", flat=True).get()
    wait = max(1, math.ceil((started + WINDOW - now).total_seconds()))
    raise Limited(f"Too many uploads: at most {limit} a minute. Try again in {wait} s.",
                  code="RateLimited", retry_after_s=wait)


def pending_full() -> bool:
    """Whether CAIRN_MAX_PENDING fresh activities wait for workers."""
    limit = settings.CAIRN_MAX_PENDING
    if not limit:
        return False
    # Fresh work only (a version backfill must not refuse uploads); counting stops at the
    # limit, so this costs at most `limit` entries of the partial index activity_pending.
    waiting = Activity.objects.filter(needs_work=True, priority=Activity.Priority.FRESH)
    return waiting.values("id")[:limit].count() >= limit


def _check_pending() -> None:
    limit = settings.CAIRN_MAX_PENDING
    if pending_full():
        raise Limited(f"Cairn has {limit} uploads waiting to be processed; try again in "
                      f"{BUSY_RETRY_S} s.", code="Busy", retry_after_s=BUSY_RETRY_S)
