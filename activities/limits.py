"""Back-pressure, checked before anything is stored: a per-user upload rate, and a cap on
the fresh work waiting for workers."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser

from activities.models import Activity, Upload

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
    """Raise Limited if this owner uploads too fast or too much work is waiting."""
    _check_rate(owner, now=now)
    _check_pending()


def _check_rate(owner: AbstractBaseUser, *, now: datetime) -> None:
    limit = settings.CAIRN_UPLOADS_PER_MINUTE
    if not limit:
        return
    # The index upload_owner_recent makes this a short range scan.
    recent = list(Upload.objects.filter(owner=owner, created_at__gt=now - WINDOW)
                  .order_by("-created_at").values_list("created_at", flat=True)[:limit])
    if len(recent) < limit:
        return
    frees_at = recent[-1] + WINDOW  # when the oldest counted upload leaves the window
    wait = max(1, math.ceil((frees_at - now).total_seconds()))
    raise Limited(f"Too many uploads: at most {limit} a minute. Try again in {wait} s.",
                  code="RateLimited", retry_after_s=wait)


def _check_pending() -> None:
    limit = settings.CAIRN_MAX_PENDING
    if not limit:
        return
    # Fresh work only (a version backfill must not refuse uploads); counting stops at the
    # limit, so this costs at most `limit` entries of the partial index activity_pending.
    waiting = Activity.objects.filter(needs_work=True, priority=Activity.Priority.FRESH)
    if waiting.values("id")[:limit].count() >= limit:
        raise Limited(f"Cairn has {limit} uploads waiting to be processed; try again in "
                      f"{BUSY_RETRY_S} s.", code="Busy", retry_after_s=BUSY_RETRY_S)
