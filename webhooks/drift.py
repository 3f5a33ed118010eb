"""What the outbox owes, and the breakers' states (drift --json's "webhooks")."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Min, Q

from activities.serialize import iso
from webhooks import breaker, outbox
from webhooks.models import Delivery, Subscription


def count(*, now: datetime) -> dict:
    """Pending (owed), retrying (owed after a failed try), dead; the oldest owed; each
    destination's breaker. Pending counts run over the partial index delivery_pending."""
    owed = Delivery.objects.filter(needs_work=True).aggregate(
        pending=Count("id"), retrying=Count("id", filter=Q(attempts__gt=0)),
        oldest=Min("pending_since"))
    dead = Delivery.objects.filter(status=Delivery.Status.DEAD).count()
    store = breaker.breakers()
    oldest = owed["oldest"]
    return {
        "pending": owed["pending"], "retrying": owed["retrying"], "dead": dead,
        "oldest_pending": iso(oldest) if oldest else None,
        "breakers": {d: store.state(d, now=now)
                     for d in outbox.destinations_of(Subscription.objects.all())},
    }
