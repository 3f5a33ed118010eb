"""One user's webhooks cannot crowd out another's: each owner holds at most a fair share
of a process's delivery threads (receivers on real sockets, posted by the real pool), and
an owner's deliveries beyond CAIRN_WEBHOOK_DELIVERIES_PER_MINUTE wait for the next minute
without spending an attempt."""

import time
from datetime import timedelta

import freezegun
import pytest
from django.utils import timezone

from core import shares
from reconciler import sweep
from tests import factories
from tests.receivers import Receiver
from webhooks import events, outbox
from webhooks.models import Delivery, DeliveryWindow, Subscription
from work import clock


def _subscribe(user, url: str) -> Subscription:
    return Subscription.objects.create(owner=user, url=url, events=[events.UPLOAD_READY],
                                       secret=events.new_secret(), created_at=timezone.now())


def _until(predicate, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"no {what} within {seconds} s"
        sweep.sweep_once()
        time.sleep(0.05)


@pytest.fixture(autouse=True)
def _loopback(settings):
    settings.CAIRN_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]


@pytest.mark.django_db(transaction=True)
def test_hanging_receivers_hold_only_their_owners_share(user, other_user, upload, settings):
    settings.CAIRN_WEBHOOK_CONCURRENCY = 4
    settings.CAIRN_WEBHOOK_THREADS_PER_OWNER = 2  # the default
    settings.CAIRN_WEBHOOK_TIMEOUT_S = 30  # the hanging receivers hold their threads
    hanging = [Receiver(hang=True).start() for _ in range(5)]
    healthy = Receiver().start()
    try:
        for receiver in hanging:
            _subscribe(user, receiver.url)
        _subscribe(other_user, healthy.url)
        upload(factories.gpx())  # alice's five deliveries are the oldest
        _until(lambda: sum(1 for r in hanging if r.posts()) == 2, seconds=30,
               what="two of alice's receivers reached")
        upload(factories.gpx(points=80), owner=other_user)
        _until(lambda: healthy.accepted(), seconds=10, what="delivery to the healthy receiver")
        # Alone, alice held two of the four threads, no more; they are still hers.
        assert sum(1 for r in hanging if r.posts()) == 2
        waiting = Delivery.objects.filter(subscription__owner=user, status="pending")
        assert waiting.count() == 5
        assert sorted(waiting.values_list("attempts", flat=True)) == [0, 0, 0, 1, 1], (
            "the deliveries handed back unposted spent no attempt")
    finally:
        for receiver in [*hanging, healthy]:
            receiver.close()
        deadline = time.monotonic() + 30
        while outbox.POOL.busy and time.monotonic() < deadline:
            time.sleep(0.05)  # the held threads see their receivers go and settle


@pytest.mark.django_db
def test_deliveries_beyond_the_owners_minute_wait_for_the_next(user, upload, settings):
    settings.CAIRN_WEBHOOK_CONCURRENCY = 0
    settings.CAIRN_WEBHOOK_DELIVERIES_PER_MINUTE = 2
    receivers = [Receiver().start() for _ in range(3)]
    try:
        for receiver in receivers:
            _subscribe(user, receiver.url)
        upload(factories.gpx())
        _until(lambda: sum(len(r.accepted()) for r in receivers) == 2, seconds=30,
               what="two deliveries")
        for _ in range(5):
            sweep.sweep_once()
        assert sum(len(r.accepted()) for r in receivers) == 2
        (waiting,) = Delivery.objects.filter(status="pending")
        window = DeliveryWindow.objects.get(owner=user)
        assert window.count == 2
        assert waiting.due_at == window.started_at + timedelta(minutes=1)
        assert waiting.attempts == 0 and waiting.needs_work, "not dropped, not spent"
        with freezegun.freeze_time(clock.now() + timedelta(seconds=61), tick=True):
            _until(lambda: sum(len(r.accepted()) for r in receivers) == 3, seconds=30,
                   what="the third delivery in the next minute")
    finally:
        for receiver in receivers:
            receiver.close()
    assert Delivery.objects.filter(status="delivered").count() == 3


@pytest.mark.parametrize(("threads", "owners", "cap", "share"), [
    (4, 1, 0, 4), (4, 2, 0, 2), (4, 3, 0, 2), (4, 5, 0, 1), (4, 1, 2, 2), (4, 2, 3, 2),
    (1, 3, 0, 1), (2, 0, 0, 2),
])
def test_an_owners_share(threads, owners, cap, share):
    assert shares.per_owner(threads, owners, cap) == share


def test_choose_keeps_to_the_shares_and_the_free_threads():
    busy = {"a1": "alice"}
    candidates = [("a1", "alice"), ("a2", "alice"), ("a3", "alice"), ("b1", "bob"),
                  ("c1", "carol"), ("b2", "bob")]
    # Four threads, three owners: a share of two each; one thread is alice's already, so
    # bob and carol, who hold none, come before her second.
    assert shares.choose(candidates, busy, threads=4, owners=3) == ["b1", "c1", "a2"]
    assert shares.choose(candidates, busy, threads=2, owners=3) == ["b1"]
    assert shares.choose(candidates, busy, threads=8, owners=3) == [
        "b1", "c1", "a2", "b2", "a3"]  # a share of three each
    assert shares.full(busy, threads=4, owners=3) == set()
    assert shares.full({"a1": "alice", "a2": "alice"}, threads=4, owners=3) == {"alice"}
