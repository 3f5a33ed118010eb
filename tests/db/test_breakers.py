"""The circuit breaker shared by the fleet, in each of its stores (the database; Redis,
a real server of our own): it opens after N failures for every worker, lets one half-open
probe through after the cool-down, and the probe's answer decides."""

import shutil
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.ports import free_port
from webhooks import breaker

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)
DEST = "http://receiver.example:80"


@pytest.fixture(scope="module")
def redis_url():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.02)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait()


@pytest.fixture(params=["orm", "redis"])
def stores(request, settings):
    """Two handles on one store: two workers of the fleet."""
    settings.CAIRN_WEBHOOK_BREAKER_FAILURES = 3
    settings.CAIRN_WEBHOOK_BREAKER_COOLDOWN_S = 60
    settings.CAIRN_WEBHOOK_TIMEOUT_S = 1
    if request.param == "redis":
        settings.REDIS_URL = request.getfixturevalue("redis_url")
        settings.CAIRN_BROKER = "redis"
        first, second = breaker.RedisBreakers(), breaker.RedisBreakers()
        first.client.flushdb()
        return first, second
    settings.CAIRN_BROKER = "orm"
    return breaker.DatabaseBreakers(), breaker.DatabaseBreakers()


def test_opens_after_n_failures_for_every_worker(stores):
    one, other = stores
    for _ in range(2):
        assert one.record(DEST, ok=False, probe=False, now=NOW) == breaker.CLOSED
    assert other.allow(DEST, now=NOW).go
    assert other.record(DEST, ok=False, probe=False, now=NOW) == breaker.OPEN
    decision = one.allow(DEST, now=NOW + timedelta(seconds=1))
    assert not decision.go and decision.retry_at == NOW + timedelta(seconds=60)
    assert other.state(DEST, now=NOW) == breaker.OPEN
    assert one.allow("http://elsewhere.example:80", now=NOW).go


def test_a_success_resets_the_count(stores):
    one, other = stores
    one.record(DEST, ok=False, probe=False, now=NOW)
    one.record(DEST, ok=False, probe=False, now=NOW)
    other.record(DEST, ok=True, probe=False, now=NOW)
    assert one.record(DEST, ok=False, probe=False, now=NOW) == breaker.CLOSED


def test_one_half_open_probe_and_its_answer_decides(stores):
    one, other = stores
    for _ in range(3):
        one.record(DEST, ok=False, probe=False, now=NOW)
    later = NOW + timedelta(seconds=61)
    assert one.state(DEST, now=later) == breaker.HALF_OPEN
    probe = one.allow(DEST, now=later)
    assert probe.go and probe.probe
    assert not other.allow(DEST, now=later).go, "only one probe at a time"
    # The probe fails: open again for a whole cool-down.
    assert one.record(DEST, ok=False, probe=True, now=later) == breaker.OPEN
    assert not other.allow(DEST, now=later + timedelta(seconds=30)).go
    again = NOW + timedelta(seconds=122)
    probe = other.allow(DEST, now=again)
    assert probe.probe
    other.record(DEST, ok=True, probe=True, now=again)
    assert one.state(DEST, now=again) == breaker.CLOSED
    assert one.allow(DEST, now=again).go and not one.allow(DEST, now=again).probe


def test_redis_away_lets_deliveries_go(settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # refused
    store = breaker.RedisBreakers()
    assert store.allow(DEST, now=NOW).go
    assert store.record(DEST, ok=False, probe=False, now=NOW) == breaker.CLOSED
