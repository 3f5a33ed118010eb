"""Every outbound call has one deadline for all of it, against receivers on real sockets
that answer a byte at a time (a whole, correct answer, if anyone waited for it): the
transport gives up, a delivery counts it as a failure for its breaker, and the push
subscription's challenge ends in a 400 instead of holding the request. A user has one
challenge in flight at a time (429 beyond)."""

import threading
import time

import pytest
from django.test import Client

from activities import tokens
from reconciler import sweep
from tests import factories
from tests.receivers import Receiver
from webhooks import breaker, destinations, events, transport
from webhooks.models import Challenge, Delivery, Subscription
from work import clock
from work.models import Attempt

#: Far longer than any deadline below: waited for whole, these answers would succeed.
TRICKLE_S = 0.2
#: What "gave up in time" means here (a bound, not a target: the deadline is 0.5 s,
#: the whole trickled answer about 15 s).
PROMPT_S = 5.0


@pytest.fixture(autouse=True)
def _loopback(settings):
    settings.CAIRN_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]


@pytest.fixture
def trickling():
    receiver = Receiver(trickle_s=TRICKLE_S).start()
    yield receiver
    receiver.close()


def test_a_trickled_answer_ends_at_the_deadline(trickling):
    target = destinations.parse(trickling.url)
    started = time.monotonic()
    answer = transport.request("POST", target, body=b"{}", timeout_s=0.5)
    elapsed = time.monotonic() - started
    assert answer.status is None and not answer.ok
    assert answer.error == "No whole answer within 0.5 s."
    assert elapsed < PROMPT_S
    assert trickling.posts(), "the request reached the receiver"


def test_a_whole_answer_within_the_deadline_is_read(settings):
    quick = Receiver().start()
    try:
        answer = transport.request("POST", destinations.parse(quick.url), body=b"{}",
                                   timeout_s=0.5)
    finally:
        quick.close()
    assert answer.status == 200 and answer.body == b"ok"


@pytest.mark.django_db
def test_a_trickling_receiver_fails_its_deliveries_and_opens_its_breaker(
        api, upload, trickling, settings):
    settings.CAIRN_WEBHOOK_CONCURRENCY = 0
    settings.CAIRN_WEBHOOK_TIMEOUT_S = 0.5
    settings.CAIRN_WEBHOOK_BREAKER_FAILURES = 2
    settings.CAIRN_WEBHOOK_BACKOFF_BASE_S = 0.01
    settings.CAIRN_WEBHOOK_BACKOFF_CAP_S = 0.02
    assert api.post("/api/v1/webhooks", {"url": trickling.url, "events": ["upload.ready"]},
                    content_type="application/json").status_code == 201
    upload(factories.gpx())
    upload(factories.gpx(points=80))
    destination = events.destination_of(trickling.url)
    started = time.monotonic()
    while breaker.breakers().state(destination, now=clock.now()) != breaker.OPEN:
        assert time.monotonic() - started < 4 * PROMPT_S, "the breaker never opened"
        sweep.sweep_once()
        time.sleep(0.01)
    tries = list(Attempt.objects.filter(kind="delivery"))
    assert len(tries) == 2
    assert {t.error_message for t in tries} == {"No whole answer within 0.5 s."}
    assert all(t.detail["status_code"] is None and t.detail["duration_ms"] < PROMPT_S * 1000
               for t in tries)
    assert not Delivery.objects.filter(status="delivered").exists()


@pytest.mark.django_db
def test_a_trickling_push_callback_is_refused_in_time(api, trickling):
    started = time.monotonic()
    response = api.post("/api/v3/push_subscriptions",
                        {"callback_url": trickling.url, "verify_token": "t"})
    elapsed = time.monotonic() - started
    assert response.status_code == 400, response.content
    assert response.json()["errors"][0]["code"] == "GET to callback URL does not return 200"
    assert elapsed < PROMPT_S
    assert not Subscription.objects.exists()
    assert not Challenge.objects.exists(), "the challenge's slot is given back"


@pytest.mark.django_db(transaction=True)
def test_one_push_challenge_in_flight_per_user(user, other_user):
    held = threading.Event()
    release = threading.Event()
    callback = Receiver().start()

    def do_get(self):  # answers the challenge, once the test has asked again meanwhile
        held.set()
        release.wait(30)
        Receiver_do_get(self)

    Receiver_do_get = callback.server.RequestHandlerClass.do_GET
    callback.server.RequestHandlerClass.do_GET = do_get
    alice = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")
    first: list = []

    def subscribe() -> None:
        first.append(alice.post("/api/v3/push_subscriptions",
                                {"callback_url": callback.url, "verify_token": "t"}))

    thread = threading.Thread(target=subscribe)
    thread.start()
    try:
        assert held.wait(30), "the first challenge never arrived"
        again = alice.post("/api/v3/push_subscriptions",
                           {"callback_url": callback.url, "verify_token": "t"})
        assert again.status_code == 429
        assert again["Retry-After"] == "2"
        assert again.json()["errors"][0] == {"resource": "PushSubscription",
                                             "field": "callback_url", "code": "rate limited"}
        assert "being checked already" in again.json()["message"]
        # Another user's challenge is theirs to make.
        mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
        other = Receiver().start()
        try:
            assert mallory.post("/api/v3/push_subscriptions",
                                {"callback_url": other.url}).status_code == 201
        finally:
            other.close()
    finally:
        release.set()
        thread.join(30)
        callback.close()
    assert first[0].status_code == 201, first[0].content
    assert not Challenge.objects.exists()


@pytest.mark.django_db
def test_a_slot_left_by_a_dead_process_is_taken_over(api, user):
    from datetime import timedelta

    Challenge.objects.create(owner=user, slot=0,
                             started_at=clock.now() - timedelta(minutes=5))
    callback = Receiver().start()
    try:
        response = api.post("/api/v3/push_subscriptions", {"callback_url": callback.url})
    finally:
        callback.close()
    assert response.status_code == 201, response.content
    assert not Challenge.objects.exists()
