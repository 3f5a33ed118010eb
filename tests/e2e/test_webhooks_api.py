"""The webhooks API: subscribe, read, delete, list deliveries; refused URLs get a 400 with
a sentence; another user's webhook is a 404."""

import pytest
from django.test import Client

from activities import tokens
from webhooks.models import Subscription

pytestmark = pytest.mark.django_db


@pytest.fixture
def loopback(settings):
    settings.CAIRN_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]


def _subscribe(api, url="http://127.0.0.1:9/hook", events=("upload.ready",)):
    return api.post("/api/v1/webhooks", {"url": url, "events": list(events)},
                    content_type="application/json")


def test_subscribe_read_and_delete(api, loopback):
    response = _subscribe(api, events=["activity.deleted", "upload.ready"])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert body["events"] == ["upload.ready", "activity.deleted"]
    one = api.get(f"/api/v1/webhooks/{body['id']}").json()
    assert one["url"] == "http://127.0.0.1:9/hook" and "secret" not in one
    assert [w["id"] for w in api.get("/api/v1/webhooks").json()["webhooks"]] == [body["id"]]
    assert api.get(f"/api/v1/webhooks/{body['id']}/deliveries").json() == {"deliveries": []}
    assert api.delete(f"/api/v1/webhooks/{body['id']}").status_code == 204
    assert api.get(f"/api/v1/webhooks/{body['id']}").status_code == 404


@pytest.mark.parametrize(("url", "says"), [
    ("ftp://127.0.0.1/hook", "Only http and https"),  # not HTTP
    ("http://10.1.2.3/hook", "private, loopback or link-local"),  # private
    ("http://169.254.169.254/latest", "private, loopback or link-local"),  # cloud metadata
    ("http://[::1]:8000/hook", "private, loopback or link-local"),  # loopback, IPv6
    ("http://user:pw@example.com/hook", "user name or password"),  # credentials in URL
    ("http://testserver/api/v1/uploads", "Cairn itself"),  # this very server
    ("http://no-such-host.invalid/hook", "does not resolve"),
    ("not a url", "Only http and https"),
])
def test_refused_urls_get_a_sentence(api, url, says):
    response = _subscribe(api, url=url)
    assert response.status_code == 400
    assert says in response.json()["error"]["message"]
    assert not Subscription.objects.exists()


def test_loopback_needs_the_operator_to_allow_it(api, settings):
    assert _subscribe(api).status_code == 400
    settings.CAIRN_WEBHOOK_ALLOW_NETWORKS = ["127.0.0.0/8"]
    assert _subscribe(api).status_code == 201


@pytest.mark.parametrize("body", [
    {"url": "http://127.0.0.1:9/hook"},  # no events
    {"url": "http://127.0.0.1:9/hook", "events": []},
    {"url": "http://127.0.0.1:9/hook", "events": ["upload.exploded"]},
    {"url": 5, "events": ["upload.ready"]},
    ["not", "an", "object"],
])
def test_bad_bodies_get_a_sentence(api, loopback, body):
    response = api.post("/api/v1/webhooks", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["message"]


def test_another_users_webhook_is_not_found(api, loopback, other_user):
    webhook_id = _subscribe(api).json()["id"]
    other = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert other.get(f"/api/v1/webhooks/{webhook_id}").status_code == 404
    assert other.get(f"/api/v1/webhooks/{webhook_id}/deliveries").status_code == 404
    assert other.delete(f"/api/v1/webhooks/{webhook_id}").status_code == 404
    assert other.get("/api/v1/webhooks").json() == {"webhooks": []}
    assert Subscription.objects.count() == 1


def test_needs_a_token(client):
    assert client.get("/api/v1/webhooks").status_code == 401


def test_real_responses_match_the_openapi_document(api, loopback):
    from tests.e2e.test_openapi import _check

    created = _subscribe(api)
    _check(created, "/api/v1/webhooks", "post")
    _check(_subscribe(api, url="http://10.0.0.1/"), "/api/v1/webhooks", "post")
    webhook = f"/api/v1/webhooks/{created.json()['id']}"
    _check(api.get("/api/v1/webhooks"), "/api/v1/webhooks")
    _check(api.get(webhook), "/api/v1/webhooks/{webhook_id}")
    _check(api.get(f"{webhook}/deliveries"), "/api/v1/webhooks/{webhook_id}/deliveries")
    assert api.delete(webhook).status_code == 204
    _check(api.delete(webhook), "/api/v1/webhooks/{webhook_id}", "delete")  # 404


@pytest.mark.parametrize("host", [
    "[::127.0.0.1]",  # IPv4-compatible: 127.0.0.1 itself
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "[::ffff:0:127.0.0.1]",  # IPv4-translated (SIIT)
    "[64:ff9b::127.0.0.1]",  # NAT64's well-known prefix, towards 127.0.0.1
    "[64:ff9b::a9fe:a9fe]",  # NAT64 towards 169.254.169.254, the cloud metadata
    "[64:ff9b:1::7f00:1]",  # NAT64 for local use: wherever the local translator says
    "[2002:7f00:1::1]",  # 6to4 of 127.0.0.1
    "[2002:a00:1::1]",  # 6to4 of 10.0.0.1
    "[2001:0:4136:e378:8000:63bf:80ff:fffe]",  # Teredo, client 127.0.0.1
])
def test_ipv4_inside_ipv6_is_judged_by_the_ipv4_address(api, host):
    response = _subscribe(api, url=f"http://{host}:8000/hook")
    assert response.status_code == 400, response.content
    assert "private, loopback or link-local" in response.json()["error"]["message"]
    assert not Subscription.objects.exists()


@pytest.mark.parametrize(("address", "allowed"), [
    ("64:ff9b::808:808", True),  # NAT64 towards 8.8.8.8: a public address
    ("2002:808:808::1", True),  # 6to4 of 8.8.8.8
    ("64:ff9b::7f00:1", False),
    ("::ffff:8.8.8.8", True),
    ("::1", False),
    ("::", False),
])
def test_embedded_public_addresses_stay_allowed(address, allowed, settings):
    import ipaddress

    from webhooks import destinations

    settings.CAIRN_WEBHOOK_ALLOW_NETWORKS = []
    assert destinations.is_allowed(ipaddress.ip_address(address)) is allowed


def test_an_allowed_network_covers_its_ipv6_forms(api, loopback):
    assert _subscribe(api, url="http://[::ffff:127.0.0.1]:9/hook").status_code == 201


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "no-such-host.invalid"])
def test_a_refusal_never_names_the_address_resolved(api, host):
    message = _subscribe(api, url=f"http://{host}:8000/hook").json()["error"]["message"]
    # One sentence for every refused name: neither where it points nor whether it resolves.
    assert message == (f"The host {host.strip('[]')} does not resolve to an address webhooks "
                       "may call (a public one: private, loopback or link-local networks "
                       "only where the operator allows them).")
    if host == "localhost":
        assert "127.0.0.1" not in message and "::1" not in message


def test_webhooks_per_user_are_capped(api, loopback, settings, other_user):
    settings.CAIRN_WEBHOOKS_PER_USER = 3
    for n in range(3):
        assert _subscribe(api, url=f"http://127.0.0.1:9/hook{n}").status_code == 201
    refused = _subscribe(api, url="http://127.0.0.1:9/one-more")
    assert refused.status_code == 409
    assert refused.json()["error"] == {
        "code": "TooManyWebhooks",
        "message": "At most 3 webhooks per user: delete one to add another."}
    assert Subscription.objects.filter(owner__username="alice").count() == 3
    # Someone else's count is their own; a deleted webhook frees its place.
    other = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert _subscribe(other).status_code == 201
    first = api.get("/api/v1/webhooks").json()["webhooks"][0]["id"]
    assert api.delete(f"/api/v1/webhooks/{first}").status_code == 204
    assert _subscribe(api, url="http://127.0.0.1:9/again").status_code == 201


def test_the_default_cap_is_ten(api, loopback):
    statuses = [_subscribe(api, url=f"http://127.0.0.1:9/h{n}").status_code for n in range(11)]
    assert statuses == [201] * 10 + [409]
