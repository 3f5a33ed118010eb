"""Strava's push subscriptions: the hub.challenge handshake before the 201, one per
application, GET and DELETE as Strava has them, and Strava-shaped events delivered by the
same outbox."""

import time

import pytest

from reconciler import sweep
from tests import factories
from tests.ports import free_port
from tests.receivers import Receiver
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick(settings):
    settings.CAIRN_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
    settings.CAIRN_WEBHOOK_CONCURRENCY = 0


@pytest.fixture
def callback():
    receiver = Receiver().start()
    yield receiver
    receiver.close()


def _create(api, url, token="STRAVA"):
    return api.post("/api/v3/push_subscriptions", {"callback_url": url, "verify_token": token})


def test_the_handshake_comes_before_the_201(api, callback):
    response = _create(api, callback.url, token="my-token")
    assert response.status_code == 201, response.content
    sub_id = response.json()["id"]
    (challenge,) = callback.received
    assert challenge.method == "GET"
    assert "hub.mode=subscribe" in challenge.path
    assert "hub.verify_token=my-token" in challenge.path
    listed = api.get("/api/v3/push_subscriptions").json()
    assert [s["id"] for s in listed] == [sub_id]
    assert listed[0]["callback_url"] == callback.url
    assert _create(api, callback.url).status_code == 400  # one per application
    assert api.delete(f"/api/v3/push_subscriptions/{sub_id}").status_code == 204
    assert api.get("/api/v3/push_subscriptions").json() == []


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/cb",  # a private address: never called
    "CLOSED",  # nothing listens there
])
def test_a_callback_that_cannot_answer_is_refused(api, url):
    url = f"http://127.0.0.1:{free_port()}/cb" if url == "CLOSED" else url
    response = _create(api, url)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"].startswith("callback")
    assert not Subscription.objects.exists()


def test_a_challenge_answered_wrongly_is_refused(api):
    wrong = Receiver().start()

    def do_get(self):
        self._answer(200, b'{"hub.challenge": "not-it"}')

    wrong.server.RequestHandlerClass.do_GET = do_get
    try:
        response = _create(api, wrong.url)
    finally:
        wrong.close()
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "GET to callback URL does not return 200"
    assert not Subscription.objects.exists()


def test_events_arrive_in_stravas_shape(api, upload, callback, user):
    sub_id = _create(api, callback.url).json()["id"]
    activity = upload(factories.gpx()).activity
    for _ in range(100):
        sweep.sweep_once()
        if callback.accepted():
            break
        time.sleep(0.01)
    api.patch(f"/api/v1/activities/{activity.id}", {"name": "Hill repeats"},
              content_type="application/json")
    api.delete(f"/api/v1/activities/{activity.id}")
    for _ in range(100):
        sweep.sweep_once()
        if len(callback.accepted()) == 3:
            break
        time.sleep(0.01)
    events = [p.json() for p in callback.accepted()]
    assert [e["aspect_type"] for e in events] == ["create", "update", "delete"]
    for event in events:
        assert set(event) == {"object_type", "object_id", "aspect_type", "owner_id",
                              "subscription_id", "event_time", "updates"}
        assert event["object_type"] == "activity" and event["object_id"] == activity.id
        assert event["owner_id"] == user.id and event["subscription_id"] == sub_id
        assert isinstance(event["event_time"], int)
    assert events[1]["updates"] == {"title": "Hill repeats"}


def test_client_secret_is_the_api_token(client, user, callback):
    from activities import tokens

    response = client.post("/api/v3/push_subscriptions",
                           {"client_id": "1", "client_secret": tokens.create(user),
                            "callback_url": callback.url, "verify_token": "t"})
    assert response.status_code == 201
    assert client.post("/api/v3/push_subscriptions",
                       {"client_secret": "wrong", "callback_url": callback.url}
                       ).status_code == 401


def test_another_users_subscription_cannot_be_deleted(api, callback, other_user):
    from django.test import Client

    from activities import tokens

    sub_id = _create(api, callback.url).json()["id"]
    other = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert other.delete(f"/api/v3/push_subscriptions/{sub_id}").status_code == 404
    assert Subscription.objects.filter(id=sub_id).exists()
