"""Per-minute counts of events, shared by every process through the database."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.db import connection
from django.db.models import Sum

from reconciler.models import Tally
from work import clock

log = structlog.get_logger(__name__)

NUDGE_FAILED = "nudge_failed"
INLINE_FALLBACK = "inline_fallback"

_TABLE = Tally._meta.db_table
# One statement, whichever process gets there first: insert the minute or add to it.
_ADD_SQL = f"""
INSERT INTO {_TABLE} (name, minute, count) VALUES (%s, %s, 1)
ON CONFLICT (name, minute) DO UPDATE SET count = {_TABLE}.count + 1
"""


def add(name: str, *, now: datetime) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_ADD_SQL, [name, now.replace(second=0, microsecond=0)])


def record(name: str) -> None:
    """Count one event now; never raises (the database may be what just failed)."""
    try:
        add(name, now=clock.now())
    except Exception:
        log.warning("tally.failed", tally=name)


def last_hour(name: str, *, now: datetime) -> int:
    since = now - timedelta(hours=1)
    total = Tally.objects.filter(name=name, minute__gt=since).aggregate(n=Sum("count"))["n"]
    return total or 0


def prune(*, now: datetime, keep: timedelta = timedelta(days=2)) -> int:
    return Tally.objects.filter(minute__lt=now - keep).delete()[0]
