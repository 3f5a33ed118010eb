"""Upload sessions by reconcile state: drift's and /metrics' "sessions" counts, so that an
operator sees sessions stuck (runbooks/uploads-stuck-uploading.md)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Count, Min, Q

from transfers import sessions
from transfers.models import UploadSession

#: The states /metrics reports as cairn_upload_sessions{state=...}.
STATES = ("pending", "waiting", "arrived", "leased", "stale_leases", "retrying", "expired",
          "cleaning", "failed_last_hour")
#: How far back "failed lately" looks.
RECENT = timedelta(hours=1)

Status = UploadSession.Status


def count(*, now: datetime) -> dict:
    """{state: n for STATES} and "oldest_arrived_age_s" (how long the longest-due session
    has waited for the sweep's look: seconds, None when none is due). Of the sessions that need work
    (`pending`, over the partial index session_pending), each is in one of:

    * `leased` / `stale_leases`: a sweeper holds it (looking, ingesting, cleaning), or held
      it and stopped;
    * `waiting`: open, waiting for its bytes (or for its next look, presigned);
    * `arrived`: open and due now: its last tus byte is in, or a PUT or a nudge said the
      bytes are, or a presigned poll is due: the sweep owes it a look;
    * `expired`: past its expiry (and the grace for a PUT in flight) but not yet failed;
    * `cleaning`: ingested or failed, its bytes in the store not yet deleted.

    `retrying` (unleased after a failed try, such as the store away) overlaps these;
    `failed_last_hour` counts sessions that ended failed in the last hour (index
    session_failed)."""
    unleased = Q(lease_token__isnull=True)
    open_ = unleased & Q(status=Status.UPLOADING)
    expired = Q(expires_at__lte=now - sessions.EXPIRY_GRACE)
    work = UploadSession.objects.filter(needs_work=True).aggregate(
        pending=Count("id"),
        leased=Count("id", filter=Q(lease_token__isnull=False, lease_expires_at__gt=now)),
        stale_leases=Count("id", filter=Q(lease_token__isnull=False,
                                          lease_expires_at__lte=now)),
        waiting=Count("id", filter=open_ & ~expired & Q(due_at__gt=now)),
        arrived=Count("id", filter=open_ & ~expired & Q(due_at__lte=now)),
        expired=Count("id", filter=open_ & expired),
        cleaning=Count("id", filter=unleased & ~Q(status=Status.UPLOADING)),
        retrying=Count("id", filter=unleased & Q(attempts__gt=0)),
        oldest=Min("due_at", filter=open_ & ~expired & Q(due_at__lte=now)))
    oldest = work.pop("oldest")
    failed = UploadSession.objects.filter(status=Status.FAILED,
                                          settled_at__gte=now - RECENT).count()
    return {
        **work,
        "failed_last_hour": failed,
        "oldest_arrived_age_s": round((now - oldest).total_seconds(), 1) if oldest else None,
    }
