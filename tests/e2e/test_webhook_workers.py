"""Webhooks with real worker processes (`reconcile --loop`) and live receivers: a hanging
receiver opens the breaker for every worker, gets few attempts, and delays neither the
activities nor another receiver's events; a worker SIGKILLed mid-delivery loses nothing."""

import json
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.utils import timezone

from activities import ingest
from activities.models import Activity
from tests import factories
from tests.conftest import subprocess_env
from tests.e2e.test_worker_killed import _wait_for
from tests.receivers import Receiver
from webhooks import events
from webhooks.models import Breaker, Delivery, Subscription
from work.models import Attempt

REPO = Path(__file__).resolve().parents[2]
INTERVAL_S = 0.2
FAILURES = 2
WORKERS = 2


def _clock() -> str:
    return "database" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "local"


def _worker(**env) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", "--loop", "--interval", str(INTERVAL_S)],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        env=subprocess_env(CAIRN_CLOCK=_clock(), CAIRN_WEBHOOK_ALLOW_NETWORKS="127.0.0.0/8",
                           CAIRN_WEBHOOK_BACKOFF_BASE_S="0.2", CAIRN_WEBHOOK_BACKOFF_CAP_S="1",
                           **env))


def _stop(*workers: subprocess.Popen) -> None:
    for worker in workers:
        worker.terminate()  # SIGTERM: the loop finishes its round
    for worker in workers:
        worker.wait(timeout=30)


def _subscribe(user, url: str) -> Subscription:
    return Subscription.objects.create(owner=user, url=url, events=list(events.ALL),
                                       secret=events.new_secret(), created_at=timezone.now())


@pytest.mark.django_db(transaction=True)
def test_a_hanging_receiver_opens_the_breaker_for_every_worker(user):
    hanging, healthy = Receiver(hang=True).start(), Receiver().start()
    _subscribe(user, hanging.url)
    _subscribe(user, healthy.url)
    uploads = 8
    workers = [_worker(CAIRN_WEBHOOK_TIMEOUT_S="1", CAIRN_WEBHOOK_BREAKER_FAILURES=str(FAILURES),
                       CAIRN_WEBHOOK_BREAKER_COOLDOWN_S="600") for _ in range(WORKERS)]
    try:
        for n in range(uploads):
            ingest.accept(factories.gpx(points=40 + n), owner=user, original_name=f"{n}.gpx")
            time.sleep(0.3)  # events spread over the time the breaker takes to open
        _wait_for(lambda: len(healthy.accepted()) == uploads, timeout=120,
                  what="every event at the healthy receiver")
        _wait_for(lambda: Breaker.objects.filter(open_until__isnull=False).exists(),
                  timeout=60, what="the breaker to open")
        ready = _wait_for(lambda: Activity.objects.filter(status="ready").count() == uploads,
                          timeout=60, what="every activity ready")
    finally:
        _stop(*workers)
        hanging.close()
        healthy.close()
    assert ready
    (opened,) = Breaker.objects.all()
    assert opened.destination == events.destination_of(hanging.url)
    # Every worker process saw it open: few attempts reached the hanging receiver, and
    # its deliveries wait (not dead, no attempt spent while it is open).
    reached = len(hanging.posts())
    assert reached <= FAILURES + WORKERS
    waiting = Delivery.objects.filter(destination=opened.destination)
    assert waiting.count() == uploads and not waiting.filter(status="dead").exists()
    assert Attempt.objects.filter(kind="delivery",
                                  row_id__in=waiting.values("id")).count() <= reached
    assert sum(waiting.values_list("attempts", flat=True)) <= reached
    # The healthy receiver had every event once; its delays are for the note (README).
    created = dict(Delivery.objects.values_list("message_id", "created_at"))
    delays = [p.at - created[p.headers["webhook-id"]].timestamp() for p in healthy.accepted()]
    assert len({p.headers["webhook-id"] for p in healthy.accepted()}) == uploads
    figures = {"hanging_attempts": reached, "healthy_events": len(delays),
               "healthy_delay_median_s": round(statistics.median(delays), 3),
               "healthy_delay_max_s": round(max(delays), 3)}
    print("webhook-figures", json.dumps(figures), file=sys.stderr)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_delivery_loses_nothing(user):
    receiver = Receiver(hang_first=1).start()
    _subscribe(user, receiver.url)
    lease = {"CAIRN_LEASE_S": "5", "CAIRN_WEBHOOK_TIMEOUT_S": "30"}
    doomed = _worker(**lease)
    try:
        ingest.accept(factories.gpx(), owner=user, original_name="ride.gpx")
        _wait_for(lambda: receiver.posts(), timeout=60, what="the first post to arrive")
        doomed.send_signal(signal.SIGKILL)  # mid-post: the receiver has not answered
        doomed.wait()
        delivery = Delivery.objects.get()
        assert delivery.status == "pending" and delivery.lease_token
        rescuer = _worker(**lease)
        try:
            _wait_for(lambda: receiver.accepted(), timeout=60, what="the delivery again")
        finally:
            _stop(rescuer)
    finally:
        if doomed.poll() is None:
            doomed.kill()
        receiver.close()
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    # The killed worker's try counted (its lease ran out: worker_died), then the
    # rescuer's; a delivered one's count starts again (the kernel's Done).
    assert list(Attempt.objects.filter(kind="delivery", row_id=delivery.id).order_by(
        "started_at").values_list("outcome", flat=True)) == ["worker_died", "converged"]
    assert delivery.attempts == 0
    first, second = receiver.posts()
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == delivery.message_id
    assert first.answered is None and second.answered == 200
