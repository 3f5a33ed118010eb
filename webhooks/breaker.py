"""Circuit breakers, one per destination (scheme://host:port), shared by every worker of
the fleet: in Redis when CAIRN_BROKER=redis, else in the database (the Breaker table).

Closed: deliveries go. After CAIRN_WEBHOOK_BREAKER_FAILURES failures in a row (timeouts
included) it opens for CAIRN_WEBHOOK_BREAKER_COOLDOWN_S: no worker on any host posts
there, and its deliveries wait without spending attempts. Then it is half-open: the one
worker that takes the probe (a conditional write) posts one delivery, whose answer closes
the breaker or opens it for another cool-down.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis
import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import Q

from webhooks.models import Breaker

log = structlog.get_logger(__name__)

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
#: cairn_breaker_state's values.
GAUGE = {CLOSED: 0, OPEN: 1, HALF_OPEN: 2}


@dataclass(frozen=True)
class Decision:
    go: bool
    probe: bool = False  # this worker holds the half-open probe
    retry_at: datetime | None = None  # when a delivery that may not go is due again


def _failures() -> int:
    return settings.CAIRN_WEBHOOK_BREAKER_FAILURES


def _cooldown() -> timedelta:
    return timedelta(seconds=settings.CAIRN_WEBHOOK_BREAKER_COOLDOWN_S)


def _probe_window() -> timedelta:
    # A probe whose worker died frees itself after its request could have timed out.
    return timedelta(seconds=settings.CAIRN_WEBHOOK_TIMEOUT_S * 2 + 1)


class DatabaseBreakers:
    """The breakers as rows every worker reads (CAIRN_BROKER=orm)."""

    def allow(self, destination: str, *, now: datetime) -> Decision:
        row = Breaker.objects.filter(destination=destination).first()
        if row is None or row.open_until is None:
            return Decision(go=True)
        if row.open_until > now:
            return Decision(go=False, retry_at=row.open_until)
        taken = Breaker.objects.filter(
            Q(probe_until__isnull=True) | Q(probe_until__lte=now),
            destination=destination, open_until__lte=now,
        ).update(probe_until=now + _probe_window())
        if taken == 1:
            return Decision(go=True, probe=True)
        return Decision(go=False, retry_at=now + _probe_window())

    def record(self, destination: str, *, ok: bool, probe: bool, now: datetime) -> str:
        if ok:
            # Read first: the usual healthy delivery writes nothing here.
            if Breaker.objects.filter(destination=destination).exclude(
                    failures=0, open_until=None).exists():
                Breaker.objects.filter(destination=destination).update(
                    failures=0, open_until=None, probe_until=None)
            return CLOSED
        with transaction.atomic():
            Breaker.objects.bulk_create([Breaker(destination=destination)],
                                        ignore_conflicts=True)
            row = Breaker.objects.select_for_update().get(destination=destination)
            row.failures += 1
            if probe or row.failures >= _failures():
                row.open_until, row.probe_until = now + _cooldown(), None
            row.save()
        return OPEN if row.open_until else CLOSED

    def state(self, destination: str, *, now: datetime) -> str:
        row = Breaker.objects.filter(destination=destination).first()
        return _state(row.open_until if row else None, now)


class RedisBreakers:
    """The breakers in Redis (CAIRN_BROKER=redis): a hash per destination and a probe key
    set with NX. Redis unreachable: deliveries go (the receiver's own answer still
    counts), and that is logged."""

    def __init__(self) -> None:
        self.client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=settings.CAIRN_NUDGE_TIMEOUT_S,
            socket_connect_timeout=settings.CAIRN_NUDGE_TIMEOUT_S, decode_responses=True)

    def allow(self, destination: str, *, now: datetime) -> Decision:
        try:
            open_until = self._open_until(destination)
            if open_until is None:
                return Decision(go=True)
            if open_until > now:
                return Decision(go=False, retry_at=open_until)
            window = _probe_window()
            if self.client.set(_key("probe", destination), "1", nx=True,
                               px=int(window.total_seconds() * 1000)):
                return Decision(go=True, probe=True)
            return Decision(go=False, retry_at=now + window)
        except redis.RedisError as error:
            log.warning("breaker.unavailable", destination=destination, error=str(error))
            return Decision(go=True)

    def record(self, destination: str, *, ok: bool, probe: bool, now: datetime) -> str:
        key = _key("state", destination)
        try:
            if ok:
                if self.client.exists(key):
                    self.client.delete(key, _key("probe", destination))
                return CLOSED
            failures = self.client.hincrby(key, "failures", 1)
            if probe or failures >= _failures():
                self.client.hset(key, "open_until", (now + _cooldown()).timestamp())
                self.client.delete(_key("probe", destination))
                return OPEN
        except redis.RedisError as error:
            log.warning("breaker.unavailable", destination=destination, error=str(error))
        return CLOSED

    def state(self, destination: str, *, now: datetime) -> str:
        try:
            return _state(self._open_until(destination), now)
        except redis.RedisError:
            return CLOSED

    def _open_until(self, destination: str) -> datetime | None:
        value = self.client.hget(_key("state", destination), "open_until")
        return datetime.fromtimestamp(float(value), tz=UTC) if value else None


def _key(kind: str, destination: str) -> str:
    return f"cairn:breaker:{kind}:{destination}"


def _state(open_until: datetime | None, now: datetime) -> str:
    if open_until is None:
        return CLOSED
    return OPEN if open_until > now else HALF_OPEN


_BY_PID: dict[tuple[int, str], DatabaseBreakers | RedisBreakers] = {}


def breakers() -> DatabaseBreakers | RedisBreakers:
    """This process's store, as the settings choose it (a forked worker opens its own)."""
    key = (os.getpid(), settings.CAIRN_BROKER)
    if key not in _BY_PID:
        _BY_PID.clear()
        _BY_PID[key] = RedisBreakers() if settings.CAIRN_BROKER == "redis" else DatabaseBreakers()
    return _BY_PID[key]
