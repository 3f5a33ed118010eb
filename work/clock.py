"""The one clock that lease and backoff comparisons use (DESIGN.md "Time")."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone


def now() -> datetime:
    """The database's clock on PostgreSQL, so that hosts whose clocks disagree still agree
    on who holds a lease; this process's clock on SQLite (one host) or with
    CAIRN_CLOCK=local (tests that freeze time, which cannot reach SQL)."""
    if settings.CAIRN_CLOCK == "local" or connection.vendor != "postgresql":
        return timezone.now()
    with connection.cursor() as cursor:
        # clock_timestamp(), not now(): now() stands still for a whole transaction.
        cursor.execute("SELECT clock_timestamp()")
        return cursor.fetchone()[0]


#: How long an estimate of the database clock is trusted before it is measured again.
ESTIMATE_FOR_S = 30.0


class Estimate:
    """The database's clock without a round trip: measured once, then moved on by this
    process's monotonic clock. For the timestamps of a new row (a fresh upload's due and
    pending times, where milliseconds do not matter), never for a lease's comparison."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.measured: tuple[int, datetime, datetime, float] | None = None

    def now(self) -> datetime:
        if settings.CAIRN_CLOCK == "local" or connection.vendor != "postgresql":
            return timezone.now()
        wall, mono = timezone.now(), time.monotonic()
        if self.measured is not None:
            pid, database, wall_then, mono_then = self.measured
            elapsed = mono - mono_then
            # Measured again after a fork, after a while, and when this host's wall clock
            # stepped (it no longer moves with the monotonic one).
            stepped = abs((wall - wall_then).total_seconds() - elapsed) > 1
            if pid == os.getpid() and 0 <= elapsed < ESTIMATE_FOR_S and not stepped:
                return database + timedelta(seconds=elapsed)
        database = now()
        self.measured = (os.getpid(), database, wall, mono)
        return database


ESTIMATE = Estimate()


def estimate() -> datetime:
    """The database's clock as this process last measured it, moved on locally."""
    return ESTIMATE.now()
