"""Webhook deliveries on the work kernel (webhooks.kind): an orphan is taken alone and
first and dead with WorkerDied after CAIRN_WEBHOOK_MAX_ATTEMPTS; a destination this
process is posting to is left out of the claim; a breaker open for longer than a lease
gives the leases back untried."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from tests.conftest import NOW
from webhooks import events, outbox
from webhooks.kind import KIND
from webhooks.models import Breaker, Delivery, Subscription
from work import leases
from work.models import Attempt

pytestmark = pytest.mark.django_db


def _owed(user, url: str, n: int) -> list[Delivery]:
    sub = Subscription.objects.create(owner=user, url=url, events=list(events.ALL),
                                      secret=events.new_secret(), created_at=NOW)
    return [Delivery.objects.create(
        subscription=sub, message_id=f"msg_{url}_{k}", event="upload.ready", body="{}",
        destination=events.destination_of(url), created_at=NOW, due_at=NOW,
        pending_since=NOW + timedelta(seconds=k)) for k in range(n)]


def test_an_orphaned_delivery_is_taken_alone_then_dead_with_worker_died(user, settings):
    settings.CAIRN_WEBHOOK_MAX_ATTEMPTS = 2
    doomed, *others = _owed(user, "https://a.example/hook", 3)
    lease_s = timedelta(seconds=settings.CAIRN_LEASE_S + 1)
    with freeze_time(NOW) as clock:
        [held] = leases.claim(KIND, limit=1, now=timezone.now(), owner="killed",
                              trigger="sweep")
        assert held.row_id == doomed.id
        clock.tick(lease_s)
        [again] = leases.claim(KIND, limit=10, now=timezone.now(), owner="w-2",
                               trigger="sweep")
        assert again.row_id == doomed.id and again.orphan  # alone, first
        clock.tick(lease_s)
        taken = leases.claim(KIND, limit=10, now=timezone.now(), owner="w-3",
                             trigger="sweep")
    assert sorted(t.row_id for t in taken) == [o.id for o in others]
    doomed.refresh_from_db()
    assert doomed.status == Delivery.Status.DEAD and not doomed.needs_work
    assert doomed.last_error.startswith("The worker posting this event stopped 2 times")
    assert list(Attempt.objects.filter(kind="delivery", row_id=doomed.id).order_by("id")
                .values_list("outcome", flat=True)) == ["worker_died", "worker_died"]


def test_a_destination_this_process_is_posting_to_is_left_out(user):
    busy = _owed(user, "https://busy.example/hook", 2)
    free = _owed(user, "https://free.example/hook", 1)
    outbox.POOL.ensure()
    outbox.POOL.busy[busy[0].destination] = user.id
    try:
        with freeze_time(NOW):
            taken = leases.claim(KIND, limit=10, now=NOW, owner="w", trigger="sweep")
    finally:
        outbox.POOL.busy.pop(busy[0].destination, None)
    assert [t.row_id for t in taken] == [free[0].id]


def test_an_open_breaker_gives_the_leases_back_untried_past_their_expiry(user, settings):
    owed = _owed(user, "https://down.example/hook", 2)
    reopens = NOW + timedelta(seconds=settings.CAIRN_LEASE_S * 10)  # past any lease
    Breaker.objects.create(destination=owed[0].destination, failures=5, open_until=reopens)
    with freeze_time(NOW):
        taken = leases.claim(KIND, limit=10, now=NOW, owner="w", trigger="sweep")
        rows = Delivery.objects.select_related("subscription").in_bulk([t.row_id for t in taken])
        outbox._post_all(owed[0].destination, [outbox.Job(t, rows[t.row_id]) for t in taken])
    for row in Delivery.objects.filter(id__in=[d.id for d in owed]):
        assert row.lease_token is None and row.attempts == 0 and row.due_at == reopens
    assert not Attempt.objects.filter(kind="delivery").exists()  # not tried: no attempt
