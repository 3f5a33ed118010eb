"""The one clock that lease and backoff comparisons use (DESIGN.md "Time")."""

from __future__ import annotations

from datetime import datetime

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
