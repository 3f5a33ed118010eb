"""Pruning the reconciler's own records, at most once an hour per process, and stored
files no row refers to (reconciler/orphans.py), a folder a minute."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import structlog

from reconciler import orphans, tallies
from reconciler.models import Worker

log = structlog.get_logger(__name__)

EVERY_S = 3600.0
_last: dict[str, float] = {}


def tidy(*, now: datetime) -> None:
    """Drop tallies older than two days and workers not seen for a week; delete orphaned
    stored files."""
    orphans.collect(now=now)
    if time.monotonic() - _last.get("tidy", -EVERY_S) < EVERY_S:
        return
    _last["tidy"] = time.monotonic()
    old_tallies = tallies.prune(now=now)
    gone = Worker.objects.filter(last_seen__lt=now - timedelta(days=7)).delete()[0]
    if old_tallies or gone:
        log.info("housekeeping.pruned", tallies=old_tallies, workers=gone)
