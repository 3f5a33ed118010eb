"""How far users' training books are from their inputs: drift's and /metrics' "training"
counts, beside the records books' (records.drift)."""

from __future__ import annotations

from datetime import datetime

from django.db import connection
from django.db.models import Count, Min, Q

from activities import counted
from training.models import Book

#: The states /metrics reports as cairn_training_books{state=...}.
STATES = ("total", "pending", "leased", "stale_leases", "retrying", "dead", "old_version",
          "loads_missing")

#: Processed activities (live, ready, with a track and a summary stored) with no load
#: while their owner's book says it is built and owes nothing: a build that lost rows,
#: or rows removed by hand. A user whose book is owed a rebuild is not counted (their
#: loads may be missing until it runs). One anti-join over the ready activities, by the
#: unique index on training_activityload.activity_id.
LOADS_MISSING = """
SELECT COUNT(*)
  FROM activities_activity AS a
  JOIN training_book AS b ON b.user_id = a.owner_id
 WHERE """ + counted.where("a") + """ AND a.status = 'ready'
   AND NOT b.needs_work AND b.status = 'ready'
   AND EXISTS (SELECT 1 FROM activities_derived AS t WHERE t.activity_id = a.id
                  AND t.deriver = 'track' AND t.status = 'ready')
   AND EXISTS (SELECT 1 FROM activities_derived AS s WHERE s.activity_id = a.id
                  AND s.deriver = 'summary' AND s.status = 'ready')
   AND NOT EXISTS (SELECT 1 FROM training_activityload AS l WHERE l.activity_id = a.id)
"""


def count(*, now: datetime, version: int) -> dict:
    """{"total", "pending", "leased", "stale_leases", "retrying", "dead", "old_version",
    "loads_missing", "oldest_pending_age_s"}. The pending counts run over the partial
    index training_pending; `pending` is the books flagged (owed a rebuild)."""
    work = Book.objects.filter(needs_work=True).aggregate(
        pending=Count("id"),
        leased=Count("id", filter=Q(lease_token__isnull=False, lease_expires_at__gt=now)),
        stale_leases=Count("id", filter=Q(lease_token__isnull=False,
                                          lease_expires_at__lte=now)),
        retrying=Count("id", filter=Q(lease_token__isnull=True, attempts__gt=0)),
        oldest=Min("pending_since"))
    oldest = work.pop("oldest")
    with connection.cursor() as cursor:
        cursor.execute(LOADS_MISSING)
        missing = cursor.fetchone()[0]
    return {
        "total": Book.objects.count(),
        **work,
        "dead": Book.objects.filter(status=Book.Status.DEAD).count(),
        # One row per user (index training_by_version).
        "old_version": Book.objects.filter(version__lt=version).count(),
        "loads_missing": missing,
        "oldest_pending_age_s": round((now - oldest).total_seconds(), 1) if oldest else None,
    }
