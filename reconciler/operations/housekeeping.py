"""Pruning the reconciler's own records, at most once an hour per process, and stored
files no row refers to (reconciler/operations/orphans.py), a folder a minute."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import structlog

from reconciler.models import Worker
from reconciler.operations import orphans, tallies

log = structlog.get_logger(__name__)

EVERY_S = 3600.0


class Schedule:
    """When this process last tidied (time.monotonic()), or None: not yet."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget it: the next sweep tidies at once (tests)."""
        self.last_tidy: float | None = None

    def is_due(self) -> bool:
        """True at most once every EVERY_S (and the first time); it counts as done."""
        if self.last_tidy is not None and time.monotonic() - self.last_tidy < EVERY_S:
            return False
        self.last_tidy = time.monotonic()
        return True


SCHEDULE = Schedule()


def tidy(*, now: datetime) -> None:
    """Drop tallies older than two days and workers not seen for a week; delete orphaned
    stored files."""
    orphans.collect(now=now)
    if not SCHEDULE.is_due():
        return
    old_tallies = tallies.prune(now=now)
    gone = Worker.objects.filter(last_seen__lt=now - timedelta(days=7)).delete()[0]
    if old_tallies or gone:
        log.info("housekeeping.pruned", tallies=old_tallies, workers=gone)
