"""Shared fixtures: users, API clients, activity files of our own making, the clock."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

import freezegun
import pytest

from tests import factories

# The object store checks each request's signature date against its own clock: frozen time
# must not reach the S3 client (it would sign in January and be refused).
freezegun.configure(extend_ignore_list=["botocore", "boto3", "s3transfer", "urllib3"])


def _real_utc_now(remove_tzinfo: bool = True):
    now = freezegun.api.real_datetime.now(UTC)
    return now.replace(tzinfo=None) if remove_tzinfo else now


def _sign_with_real_time() -> None:
    """The ignore list covers time.time(), not datetime.now() (freezegun 1.5): botocore's
    clock, by which it signs, is made the real one in each module that imported it."""
    import botocore.auth
    import botocore.compat
    import botocore.endpoint
    import botocore.signers
    import botocore.utils

    for module in (botocore.auth, botocore.compat, botocore.endpoint, botocore.signers,
                   botocore.utils):
        module.get_current_datetime = _real_utc_now


_sign_with_real_time()

# Django is imported inside the fixtures, so that the pure unit tests also run without it
# (pytest -p no:django tests/unit).

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _isolated(request, tmp_path_factory):
    if not request.config.pluginmanager.hasplugin("django"):
        yield
        return
    from activities import tokens
    from duplicates import outdated as duplicates_outdated
    from reconciler import nudges
    from reconciler.operations import housekeeping, workers
    from reconciler.rollouts import advance as rollouts
    from records import outdated as records_outdated
    from segments import outdated as segments_outdated
    from sharing import kind as sharing_kinds
    from training import outdated as training_outdated
    from work import clock
    from work import leases as work_leases

    # Each test has its own database: nothing a process remembers of one holds for it.
    rollouts.SEEN.reset()
    records_outdated.SEEN.reset()
    segments_outdated.SEEN.reset()
    training_outdated.SEEN.reset()
    duplicates_outdated.SEEN.reset()
    sharing_kinds.HEAT_SEEN.reset()
    workers.BEATS.reset()
    housekeeping.SCHEDULE.reset()
    work_leases.CURSORS.clear()
    settings = request.getfixturevalue("settings")
    # Frozen time must govern every comparison, and freezegun cannot reach SQL's clock.
    settings.CAIRN_CLOCK = "local"
    # A command run in this process (reconcile --once) must not cap the test runner's own
    # address space: Chromium, started later, needs far more. Subprocesses get the
    # setting from their environment, as a deployment does.
    settings.CAIRN_WORKER_MEMORY_MB = 0
    # Tests upload hundreds of files in a second; test_limits.py turns limits back on.
    settings.CAIRN_UPLOADS_PER_MINUTE = 0
    settings.CAIRN_MAX_PENDING = 0
    # Originals on the filesystem, whatever CAIRN_STORAGE says; a test marked `storage`
    # runs once more against a real object store (store_backend below).
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "activities.storage.DurableFileSystemStorage",
                    "OPTIONS": {"location": tmp_path_factory.getbasetemp() / "files"}},
    }
    settings.CAIRN_STORAGE = "fs"
    # A test parametrized on the store must run on it whether or not it names store_backend:
    # pytest does not set up a fixture that pytest_generate_tests merely appends to the
    # test's fixture names, so the [s3] variant of such a test would have run on fs.
    if "store_backend" in _store_params(request.node):
        request.getfixturevalue("store_backend")
    # Tests fetch nothing from outside: the map draws the route without tiles.
    settings.CAIRN_MAP_TILES = ""
    # Nudges sent in the request, after the commit, so that a test sees their outcome at
    # once; tests/e2e/test_nudge_queue.py turns the queue on.
    settings.CAIRN_NUDGE_QUEUE = 0
    nudges.BROKERS.reset()
    tokens.CACHE.reset()
    clock.ESTIMATE.reset()
    yield
    nudges.BROKERS.reset()
    tokens.CACHE.reset()


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


@pytest.fixture
def redis_broker(settings):
    """Nudges go to the real Redis (a database of the tests' own, emptied before and after);
    yields a client of it. Skips when no Redis runs."""
    import redis

    from reconciler import nudges

    settings.CAIRN_BROKER = "redis"
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    client.flushdb()
    nudges.BROKERS.reset()
    yield client
    client.flushdb()


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
    if settings.CAIRN_STORAGE == "s3":
        store = {name: str(getattr(settings, name) or "") for name in _S3_ENV}
        store["CAIRN_STORAGE"] = "s3"
    else:
        data_dir = settings.STORAGES["default"]["OPTIONS"]["location"].parent
        store = {"CAIRN_DATA_DIR": str(data_dir), "CAIRN_STORAGE": "fs"}
    return {**os.environ, "DATABASE_URL": url, **store,
            # q2 signs task payloads with it: both sides must agree.
            "SECRET_KEY": settings.SECRET_KEY, "CAIRN_LOG_LEVEL": "warning",
            "CAIRN_MAP_TILES": "", **extra}


_S3_ENV = ("AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_ACCESS_KEY_ID",
           "AWS_SECRET_ACCESS_KEY", "AWS_S3_REGION_NAME", "AWS_LOCATION")


def pytest_generate_tests(metafunc):
    # A test marked `storage` runs on both stores of originals.
    if metafunc.definition.get_closest_marker("storage"):
        metafunc.fixturenames.append("store_backend")
        metafunc.parametrize("store_backend", ["fs", "s3"], indirect=True)


@pytest.fixture
def store_backend(request):
    """The store of originals this run of a `storage` test uses ("fs" or "s3")."""
    if request.param == "s3":
        request.getfixturevalue("s3_store")
    return request.param


def _store_params(item) -> dict:
    callspec = getattr(item, "callspec", None)
    return callspec.params if callspec else {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    # The guard: the test body of a run parametrized on a store starts on that store.
    store = _store_params(item).get("store_backend")
    if store is not None:
        from django.conf import settings

        assert settings.CAIRN_STORAGE == store, (
            f"{item.nodeid} runs on {settings.CAIRN_STORAGE!r}, not on its store {store!r}")
    return (yield)


@pytest.fixture(scope="session")
def weed(tmp_path_factory):
    """One real S3 server (SeaweedFS) for the session."""
    from tests import seaweed

    yield from seaweed.fixture(tmp_path_factory, "weed")


@pytest.fixture
def s3_store(settings, monkeypatch, weed):
    """Originals in the session's object store, under a key prefix of this test's own."""
    return use_object_store(settings, monkeypatch, weed)


def use_object_store(settings, monkeypatch, server, *, prefix: str | None = None):
    """Point Django's default storage at `server` (a tests.seaweed.Weed)."""
    import uuid

    from settings.storage import s3_settings

    for name, value in server.env(prefix=prefix or f"t{uuid.uuid4().hex[:12]}").items():
        monkeypatch.setenv(name, value)
    for name, value in s3_settings().items():
        setattr(settings, name, value)
    settings.CAIRN_STORAGE = "s3"
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "activities.objectstore.VerifiedS3Storage"}}
    return server


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


@pytest.fixture
def log_lines():
    """Every line the log handlers would write, formatted by Cairn's own formatter."""
    lines: list[str] = []
    formatter = logging.getLogger().handlers[0].formatter

    class Keep(logging.Handler):
        def emit(self, record):
            lines.append(formatter.format(record))

    keep = Keep()
    logging.getLogger().addHandler(keep)
    yield lines
    logging.getLogger().removeHandler(keep)
