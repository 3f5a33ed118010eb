"""How far users' books are from their inputs: drift's and /metrics' "records" counts."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min, Q

from records.models import Book

#: The states /metrics reports as cairn_record_books{state=...}.
STATES = ("total", "pending", "leased", "stale_leases", "retrying", "dead", "old_version")


def count(*, now: datetime, version: int) -> dict:
    """{"total", "pending", "leased", "stale_leases", "retrying", "dead", "old_version",
    "oldest_pending_age_s"}. The pending counts run over the partial index book_pending."""
    work = Book.objects.filter(needs_work=True).aggregate(
        pending=Count("id"),
        leased=Count("id", filter=Q(lease_token__isnull=False, lease_expires_at__gt=now)),
        stale_leases=Count("id", filter=Q(lease_token__isnull=False,
                                          lease_expires_at__lte=now)),
        retrying=Count("id", filter=Q(lease_token__isnull=True, attempts__gt=0)),
        oldest=Min("pending_since"))
    oldest = work.pop("oldest")
    return {
        "total": Book.objects.count(),
        **work,
        "dead": Book.objects.filter(status=Book.Status.DEAD).count(),
        # One row per user: a scan costs what the user table costs.
        "old_version": Book.objects.filter(version__lt=version).count(),
        "oldest_pending_age_s": round((now - oldest).total_seconds(), 1) if oldest else None,
    }
