"""Shared fixtures: users, API clients, activity files of our own making, the clock."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from tests import factories

# Django is imported inside the fixtures, so that the pure unit tests also run without it
# (pytest -p no:django tests/unit).

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated(request, tmp_path_factory):
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from reconciler import housekeeping, nudges, rollouts, workers

    # Each test has its own database: nothing a process remembers of one holds for it.
    rollouts.SEEN.reset()
    workers.BEATS.reset()
    housekeeping.SCHEDULE.reset()
    settings = request.getfixturevalue("settings")
    # Frozen time must govern every comparison, and freezegun cannot reach SQL's clock.
    settings.CAIRN_CLOCK = "local"
    # Tests upload hundreds of files in a second; test_limits.py turns limits back on.
    settings.CAIRN_UPLOADS_PER_MINUTE = 0
    settings.CAIRN_MAX_PENDING = 0
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"],
                    "OPTIONS": {"location": tmp_path_factory.getbasetemp() / "files"}},
    }
    nudges.BROKERS.reset()
    yield
    nudges.BROKERS.reset()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", password="correct-horse-9")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("mallory", password="battery-staple-7")


@pytest.fixture
def api(user):
    """A test client that sends alice's API token."""
    from django.test import Client

    from activities import tokens

    return Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")


@pytest.fixture
def upload(user):
    """Upload a small GPX of our own for alice; returns the Accepted."""

    from activities import ingest

    def make(data: bytes | None = None, *, owner=None, **kwargs) -> ingest.Accepted:
        return ingest.accept(data if data is not None else factories.gpx(),
                             owner=owner or user, original_name="ride.gpx", **kwargs)

    return make


def is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def subprocess_env(**extra: str) -> dict[str, str]:
    """Environment for a manage.py subprocess that talks to this test database."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"].endswith("postgresql"):
        url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    else:
        url = f"sqlite:///{db['NAME']}"
    # The subprocess must read the originals this test stored.
    data_dir = settings.STORAGES["default"]["OPTIONS"]["location"].parent
    return {**os.environ, "DATABASE_URL": url, "CAIRN_DATA_DIR": str(data_dir),
            # q2 signs task payloads with it: both sides must agree.
            "SECRET_KEY": settings.SECRET_KEY, "CAIRN_LOG_LEVEL": "warning", **extra}


def pytest_runtest_setup(item):
    marker = item.get_closest_marker("postgres_only")
    if marker and not _on_postgres(item.config):
        why = marker.kwargs.get("reason", "row locks with SKIP LOCKED and several concurrent "
                                          "connections")
        pytest.skip(f"needs PostgreSQL: {why} (run with DATABASE_URL=postgres://...)")


def _on_postgres(config) -> bool:
    if not config.pluginmanager.hasplugin("django"):
        return False
    from django.conf import settings

    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
