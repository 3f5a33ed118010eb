"""Who this worker is, what code it runs, and whether newer code is running elsewhere."""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from django.conf import settings

from core import derivers

log = structlog.get_logger(__name__)

#: A process writes its heartbeat at most this often.
BEAT_EVERY_S = 10.0



class Beats:
    """This process's heartbeats, by pid (q2 forks workers after import): when each
    started, and when it last wrote its heartbeat (time.monotonic())."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget them: the next beat() writes at once (tests)."""
        self.last: dict[int, float] = {}
        self.started: dict[int, datetime] = {}


BEATS = Beats()


def identity() -> str:
    """host:pid, computed each time because q2 forks workers after import."""
    return f"{socket.gethostname()}:{os.getpid()}"


def code_versions() -> dict[str, int]:
    """The deriver versions this process's code produces."""
    return dict(derivers.VERSIONS)


def live_window() -> timedelta:
    """A worker not seen for this long is taken for gone (a sweeper may sleep a whole
    sweep interval between heartbeats)."""
    return timedelta(seconds=max(120, 3 * settings.CAIRN_SWEEP_INTERVAL_S))


@dataclass(frozen=True)
class Sweep:
    """One sweep round, as the drift page shows the last one."""

    at: datetime
    ms: int
    claimed: int


def beat(*, now: datetime, force: bool = False, sweep: Sweep | None = None) -> None:
    """Record that this process is alive, which versions it produces and, from a
    sweeper, its last sweep (throttled to one write per BEAT_EVERY_S)."""
    from reconciler.models import Worker

    pid = os.getpid()
    if not force and time.monotonic() - BEATS.last.get(pid, -BEAT_EVERY_S) < BEAT_EVERY_S:
        return
    BEATS.started.setdefault(pid, now)
    fields = {"host": socket.gethostname(), "pid": pid, "versions": code_versions(),
              "last_seen": now}
    if sweep is not None:
        fields.update(last_sweep_at=sweep.at, last_sweep_ms=sweep.ms,
                      last_sweep_claimed=sweep.claimed)
    Worker.objects.update_or_create(id=identity(), defaults=fields,
                                    create_defaults={**fields, "started_at": BEATS.started[pid]})
    BEATS.last[pid] = time.monotonic()


def newest_versions(*, now: datetime) -> dict[str, int]:
    """Per deriver, the highest version any live worker produces (this one included)."""
    from reconciler.models import Worker

    newest = code_versions()
    for versions in Worker.objects.filter(last_seen__gte=now - live_window()).values_list(
            "versions", flat=True):
        for name, version in versions.items():
            newest[name] = max(newest.get(name, 0), version)
    return newest


def is_outdated(mine: dict[str, int], newest: dict[str, int]) -> bool:
    """Whether some live worker produces a newer version of a deriver than `mine` does."""
    return any(version > mine.get(name, 0) for name, version in newest.items())


def may_claim(*, now: datetime) -> bool:
    """False while newer code runs elsewhere: a partial deploy's old workers step aside
    (and say so in the log) rather than produce outputs that are already out of date."""
    newest = newest_versions(now=now)
    if is_outdated(code_versions(), newest):
        log.warning("worker.outdated", worker=identity(), versions=code_versions(),
                    newest=newest)
        return False
    return True
