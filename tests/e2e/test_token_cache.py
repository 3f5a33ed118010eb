"""API tokens are looked up once per CAIRN_TOKEN_CACHE_S per process: a revoked token (or
a deactivated user) is refused by every process once that time has passed, and at once by
the process that revoked it."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from activities import tokens
from activities.models import ApiToken

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)
TTL_S = 5


@pytest.fixture(autouse=True)
def _ttl(settings):
    settings.CAIRN_TOKEN_CACHE_S = TTL_S


def _api(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_a_token_revoked_elsewhere_is_refused_once_the_cache_time_has_passed(user):
    with freeze_time(NOW) as clock:
        api = _api(tokens.create(user))
        assert api.get("/api/v1/activities").status_code == 200
        # Revoked by another web process (or the admin): this one still trusts its lookup...
        ApiToken.objects.filter(user=user).delete()
        clock.tick(timedelta(seconds=TTL_S - 1))
        assert api.get("/api/v1/activities").status_code == 200
        # ...until the lookup is older than CAIRN_TOKEN_CACHE_S.
        clock.tick(timedelta(seconds=1))
        assert api.get("/api/v1/activities").status_code == 401


def test_a_deactivated_user_is_refused_once_the_cache_time_has_passed(user):
    with freeze_time(NOW) as clock:
        api = _api(tokens.create(user))
        assert api.get("/api/v1/activities").status_code == 200
        user.is_active = False
        user.save(update_fields=["is_active"])
        clock.tick(timedelta(seconds=TTL_S))
        assert api.get("/api/v1/activities").status_code == 401


def test_a_token_revoked_by_this_process_is_refused_at_once(user):
    token = tokens.create(user)
    api = _api(token)
    assert api.get("/api/v1/activities").status_code == 200
    assert tokens.revoke(user, ApiToken.objects.get(user=user).id)
    assert api.get("/api/v1/activities").status_code == 401


def test_another_users_token_cannot_be_revoked(user, other_user):
    tokens.create(user)
    assert not tokens.revoke(other_user, ApiToken.objects.get(user=user).id)
    assert ApiToken.objects.filter(user=user).exists()


def test_a_cached_token_costs_no_query(user):
    with freeze_time(NOW):
        token = tokens.create(user)
        assert tokens.authenticate(token) == user
        with CaptureQueriesContext(connection) as queries:
            assert tokens.authenticate(token) == user
    assert len(queries) == 0


def test_use_is_still_recorded_once_a_minute(user):
    with freeze_time(NOW) as clock:
        token = tokens.create(user)
        tokens.authenticate(token)
        assert ApiToken.objects.get(user=user).last_used_at == NOW
        clock.tick(timedelta(seconds=61))
        tokens.authenticate(token)
        assert ApiToken.objects.get(user=user).last_used_at == NOW + timedelta(seconds=61)


def test_no_cache_when_the_time_is_zero(user, settings):
    settings.CAIRN_TOKEN_CACHE_S = 0
    api = _api(tokens.create(user))
    assert api.get("/api/v1/activities").status_code == 200
    ApiToken.objects.filter(user=user).delete()
    assert api.get("/api/v1/activities").status_code == 401


def test_an_unknown_token_is_asked_about_every_time(user):
    token = "cairn_" + "x" * 43
    assert tokens.authenticate(token) is None
    ApiToken.objects.create(user=user, key_hash=tokens._hash(token), prefix=token[:12])
    assert tokens.authenticate(token) == user  # not remembered as unknown
