"""Failed sign-ins are throttled per username and per address, in the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from freezegun import freeze_time

from tests.conftest import NOW

pytestmark = pytest.mark.django_db

RIGHT = "correct-horse-9"


def _sign_in(username: str, password: str, ip: str = "198.51.100.7"):
    return Client(REMOTE_ADDR=ip).post("/login/", {"username": username,
                                                   "password": password})


def test_ten_failures_for_a_username_stop_its_sign_ins_for_fifteen_minutes(user, settings):
    settings.CAIRN_LOGIN_FAILURES = 10
    with freeze_time(NOW) as frozen:
        for attempt in range(10):  # from ten addresses: the username alone counts
            assert _sign_in("alice", "guess", ip=f"203.0.113.{attempt}").status_code == 200
        refused = _sign_in("Alice", RIGHT, ip="192.0.2.1")  # even the right password
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) == 15 * 60
        assert "Too many failed sign-ins. Try again in 15 minutes." in refused.content.decode()
        assert "_auth_user_id" not in refused.wsgi_request.session
        frozen.tick(timedelta(minutes=10))
        assert _sign_in("alice", RIGHT).status_code == 429  # not counted, no longer wait
        frozen.tick(timedelta(minutes=5, seconds=1))
        assert _sign_in("alice", RIGHT).status_code == 302


def test_ten_failures_from_one_address_stop_its_sign_ins(user, settings):
    settings.CAIRN_LOGIN_FAILURES = 10
    with freeze_time(NOW):
        for attempt in range(10):  # ten usernames, one address
            assert _sign_in(f"user{attempt}", "guess").status_code == 200
        assert _sign_in("alice", RIGHT).status_code == 429
        assert _sign_in("alice", RIGHT, ip="192.0.2.1").status_code == 302


def test_the_admin_sign_in_is_throttled_too(admin_user, settings):
    settings.CAIRN_LOGIN_FAILURES = 3
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(3):
        client.post("/admin/login/", {"username": "admin", "password": "guess"})
    client.post("/admin/login/", {"username": "admin", "password": "password"})
    assert "_auth_user_id" not in client.session


def test_behind_a_proxy_failures_count_per_client_address(user, settings):
    settings.CAIRN_LOGIN_FAILURES = 3
    settings.CAIRN_CLIENT_IP_HEADER = "X-Forwarded-For"
    proxy = "10.0.0.1"

    def through_proxy(username, password, client_ip, claimed=""):
        forwarded = f"{claimed}, {client_ip}" if claimed else client_ip
        return Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded).post(
            "/login/", {"username": username, "password": password})

    for attempt in range(3):  # one client, guessing three usernames
        through_proxy(f"user{attempt}", "guess", "198.51.100.7")
    # That client is stopped, whatever address it claims before the proxy's entry...
    assert through_proxy("alice", RIGHT, "198.51.100.7", claimed="192.0.2.50").status_code \
        == 429
    # ...and another client behind the same proxy is not.
    assert through_proxy("alice", RIGHT, "198.51.100.8").status_code == 302
