"""Events through the outbox to live receivers on real sockets, posted in the sweep's own
thread (CAIRN_WEBHOOK_CONCURRENCY=0): retries keep the webhook-id and the signature
verifies; edits and deletes announce themselves; dead deliveries are replayed; an address
refused at delivery time is never connected to."""

import json
import time

import pytest
from django.core.management import call_command
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from activities import ingest
from activities.models import Activity
from reconciler import sweep
from reconciler.derivation import resync
from reconciler.operations import drift
from tests import factories
from tests.receivers import Receiver
from webhooks.models import Announced, Delivery
from work import clock

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quick(settings):
    settings.CAIRN_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
    settings.CAIRN_WEBHOOK_CONCURRENCY = 0
    settings.CAIRN_WEBHOOK_TIMEOUT_S = 1.0
    settings.CAIRN_WEBHOOK_BACKOFF_BASE_S = 0.01
    settings.CAIRN_WEBHOOK_BACKOFF_CAP_S = 0.02


@pytest.fixture
def receiver():
    made = []

    def make(**behaviour) -> Receiver:
        made.append(Receiver(**behaviour).start())
        return made[-1]

    yield make
    for one in made:
        one.close()


def _subscribe(api, url, events=("upload.ready", "upload.failed", "activity.updated",
                                 "activity.deleted")):
    response = api.post("/api/v1/webhooks", {"url": url, "events": list(events)},
                        content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def _sweep_until(predicate, *, rounds: int = 300):
    for _ in range(rounds):
        sweep.sweep_once()
        if predicate():
            return
        time.sleep(0.01)  # the backoff is real time (tens of milliseconds here)
    pytest.fail("the outbox did not deliver")


def test_failing_receiver_gets_the_event_once_with_one_id_and_a_valid_signature(
        api, upload, receiver):
    flaky = receiver(fail_first=2)
    hook = _subscribe(api, flaky.url)
    accepted = upload(factories.gpx())
    _sweep_until(lambda: flaky.accepted())
    sweep.sweep_once()  # nothing more is owed
    posts = flaky.posts()
    assert [p.answered for p in posts] == [500, 500, 200]
    assert len({p.headers["webhook-id"] for p in posts}) == 1
    verifier = Webhook(hook["secret"])
    for post in posts:
        event = verifier.verify(post.body, post.headers)
        assert event["type"] == "upload.ready"
        assert event["data"]["activity_id"] == accepted.activity.id
        assert event["data"]["upload_id"] == accepted.upload.id
        assert event["data"]["status"] == "ready"
        assert event["data"]["summary"]["distance_m"] > 0
    listed = api.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["deliveries"]
    assert [d["status"] for d in listed] == ["delivered"]
    assert [t["status_code"] for t in listed[0]["tries"]] == [500, 500, 200]
    assert all(t["duration_ms"] >= 0 and t["at"] for t in listed[0]["tries"])


def test_failed_upload_edit_and_delete_are_announced(api, upload, receiver):
    ok = receiver()
    _subscribe(api, ok.url)
    good = upload(factories.gpx()).activity
    bad = ingest.accept(b"<gpx>not really", owner=good.owner, original_name="bad.gpx").activity
    _sweep_until(lambda: len(ok.accepted()) == 2)
    assert {p.json()["type"] for p in ok.accepted()} == {"upload.ready", "upload.failed"}
    failed = next(p.json() for p in ok.accepted() if p.json()["type"] == "upload.failed")
    assert failed["data"]["activity_id"] == bad.id and failed["data"]["error"]["code"]
    assert api.patch(f"/api/v1/activities/{good.id}", {"name": "Evening loop"},
                     content_type="application/json").status_code == 200
    assert api.delete(f"/api/v1/activities/{good.id}").status_code == 204
    _sweep_until(lambda: len(ok.accepted()) == 4)
    updated, deleted = (p.json() for p in ok.accepted()[2:])
    assert updated["type"] == "activity.updated"
    assert updated["data"]["changes"] == {"name": "Evening loop"}
    assert deleted == {**deleted, "type": "activity.deleted",
                       "data": {"activity_id": good.id, "upload_id": good.upload_id,
                                "status": "deleted"}}


def test_a_rebuild_announces_only_a_changed_summary(api, upload, receiver):
    ok = receiver()
    _subscribe(api, ok.url)
    activity = upload(factories.gpx()).activity
    _sweep_until(lambda: ok.accepted())
    resync.resync(Activity.objects.filter(id=activity.id), now=clock.now())
    sweep.drain()
    sweep.sweep_once()
    assert len(ok.posts()) == 1, "a rebuild that changed nothing announces nothing"
    # As if the summary had been different before (a deriver's new version changes it).
    Announced.objects.filter(activity_id=activity.id).update(summary_sha="older")
    resync.resync(Activity.objects.filter(id=activity.id), now=clock.now())
    _sweep_until(lambda: len(ok.accepted()) == 2)
    assert ok.accepted()[1].json()["type"] == "activity.updated"


def test_only_the_events_asked_for_and_only_the_owners(api, upload, receiver, other_user):
    ok = receiver()
    _subscribe(api, ok.url, events=["activity.deleted"])
    upload(factories.gpx())
    upload(factories.gpx(points=80), owner=other_user)
    sweep.drain()
    sweep.sweep_once()
    assert not Delivery.objects.exists() and not ok.posts()


def test_dead_deliveries_are_visible_and_replayed(api, upload, receiver, settings):
    settings.CAIRN_WEBHOOK_MAX_ATTEMPTS = 3
    settings.CAIRN_WEBHOOK_BREAKER_FAILURES = 100  # this test is about attempts alone
    flaky = receiver(fail_first=3)
    hook = _subscribe(api, flaky.url)
    upload(factories.gpx())
    _sweep_until(lambda: Delivery.objects.filter(status="dead").exists())
    assert len(flaky.posts()) == 3
    counts = drift.count(now=clock.now())["webhooks"]
    assert counts["dead"] == 1 and counts["pending"] == 0
    listed = api.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["deliveries"]
    assert listed[0]["status"] == "dead" and "500" in listed[0]["last_error"]
    metrics = api.get("/metrics").content.decode()
    assert 'cairn_webhook_deliveries{state="dead"} 1.0' in metrics
    call_command("replay_webhooks", "--all", stdout=open("/dev/null", "w"))
    _sweep_until(lambda: flaky.accepted())
    assert Delivery.objects.get().status == "delivered"
    assert len({p.headers["webhook-id"] for p in flaky.posts()}) == 1


def test_an_address_refused_at_delivery_is_never_connected_to(api, upload, receiver,
                                                             settings):
    ok = receiver()
    _subscribe(api, ok.url)
    # The name now points somewhere refused (DNS rebinding), or the operator withdrew it.
    settings.CAIRN_WEBHOOK_ALLOW_NETWORKS = []
    settings.CAIRN_WEBHOOK_MAX_ATTEMPTS = 2
    upload(factories.gpx())
    _sweep_until(lambda: Delivery.objects.filter(status="dead").exists())
    assert not ok.posts()
    assert "private, loopback or link-local" in Delivery.objects.get().last_error


def test_deleted_subscription_takes_its_deliveries(api, upload, receiver):
    ok = receiver(hang=True)
    hook = _subscribe(api, ok.url)
    upload(factories.gpx())
    sweep.drain()
    assert api.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert not Delivery.objects.exists()


def test_body_is_the_standard_webhooks_shape(api, upload, receiver):
    ok = receiver()
    _subscribe(api, ok.url)
    upload(factories.gpx())
    _sweep_until(lambda: ok.accepted())
    post = ok.accepted()[0]
    assert set(json.loads(post.body)) == {"type", "timestamp", "data"}
    with pytest.raises(WebhookVerificationError):  # another secret: refused
        Webhook("whsec_" + "A" * 43 + "=").verify(post.body, post.headers)
    assert post.headers["webhook-signature"].startswith("v1,")
    assert post.headers["content-type"] == "application/json"


def test_an_open_breaker_shows_in_drift_and_metrics_and_spends_no_attempts(
        api, upload, settings):
    from tests.ports import free_port

    settings.CAIRN_WEBHOOK_BREAKER_FAILURES = 2
    url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens: refused at once
    _subscribe(api, url)
    for n in range(3):
        upload(factories.gpx(points=50 + n))
    _sweep_until(lambda: drift.count(now=clock.now())["webhooks"]["breakers"] == {
        url.removesuffix("/hook"): "open"})
    for _ in range(5):
        sweep.sweep_once()
    tries = sum(Delivery.objects.values_list("attempts", flat=True))
    assert tries == 2, "no attempt is spent while the breaker is open"
    assert not Delivery.objects.filter(status="dead").exists()
    metrics = api.get("/metrics").content.decode()
    assert f'cairn_breaker_state{{destination="{url.removesuffix("/hook")}"}} 1.0' in metrics
