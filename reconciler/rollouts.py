"""Version rollouts: flag existing activities whose output of a deriver is behind the code."""

from __future__ import annotations

import time
from datetime import datetime

import structlog
from django.db import transaction

from activities.models import Activity, Derived
from core import derivers
from core.derivers import Deriver
from reconciler import flags
from reconciler.models import Rollout

log = structlog.get_logger(__name__)

#: How often (per process) to look for outputs older than a finished rollout's version.
STRAGGLERS_EVERY_S = 60.0


class Seen:
    """What this process has learnt about rollouts, to spare queries: the finished ones
    (never looked up again) and when stragglers were last looked for, by deriver."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget it all: the next sweep looks again (tests, each with a new database)."""
        self.finished: set[tuple[str, int]] = set()
        self.stragglers_checked: dict[str, float] = {}


SEEN = Seen()


def advance(*, now: datetime, batch: int) -> int:
    """Move every unfinished rollout of this code's versions on by one batch of activity
    ids; returns how many activities were looked at (0: nothing left to roll out)."""
    scanned = 0
    for deriver in derivers.ALL:
        key = (deriver.name, deriver.version)
        if key not in SEEN.finished:
            rollout, _ = Rollout.objects.get_or_create(
                deriver=deriver.name, version=deriver.version, defaults={"started_at": now})
            if rollout.finished_at is None:
                scanned += _advance_one(rollout.pk, deriver, now=now, batch=batch)
                continue
            SEEN.finished.add(key)
        scanned += _flag_stragglers(deriver, now=now, batch=batch)
    return scanned


def _flag_stragglers(deriver: Deriver, *, now: datetime, batch: int) -> int:
    """Flag outputs older than the code that appeared after its rollout finished (a worker
    still on old code wrote them during a deploy). An index probe on derived_by_version:
    normally it finds nothing."""
    last = SEEN.stragglers_checked.get(deriver.name)
    if last is not None and time.monotonic() - last < STRAGGLERS_EVERY_S:
        return 0
    SEEN.stragglers_checked[deriver.name] = time.monotonic()
    ids = list(Derived.objects.filter(
        deriver=deriver.name, version__lt=deriver.version, activity__needs_work=False,
    ).exclude(activity__status=Activity.Status.DEAD)
        .values_list("activity_id", flat=True)[:batch])
    flagged = flags.flag(ids, now=now, priority=Activity.Priority.BACKFILL)
    if flagged:
        log.info("rollout.stragglers_flagged", deriver=deriver.name, version=deriver.version,
                 flagged=flagged)
    return len(ids)


def _advance_one(pk: int, deriver: Deriver, *, now: datetime, batch: int) -> int:
    with transaction.atomic():
        # Another sweeper advancing the same rollout holds the row: skip, do not wait.
        rollout = (Rollout.objects.select_for_update(skip_locked=True)
                   .filter(pk=pk, finished_at=None).first())
        if rollout is None:
            return 0
        # A primary-key range: bounded work whatever the table's size.
        ids = list(Activity.objects.filter(id__gt=rollout.cursor).order_by("id")
                   .values_list("id", flat=True)[:batch])
        if not ids:
            rollout.finished_at = now
            rollout.save(update_fields=["finished_at"])
            log.info("rollout.finished", deriver=deriver.name, version=deriver.version,
                     flagged=rollout.flagged)
            return 0
        # By the batch's ids alone (index derived_one_per_kind): a version predicate here
        # would let the planner scan every current output of the deriver instead.
        stored = dict(Derived.objects.filter(activity_id__in=ids, deriver=deriver.name)
                      .values_list("activity_id", "version"))
        behind = [i for i in ids if stored.get(i, 0) < deriver.version]
        flagged = flags.flag(behind, now=now, priority=Activity.Priority.BACKFILL)
        rollout.cursor = ids[-1]
        rollout.flagged += flagged
        rollout.save(update_fields=["cursor", "flagged"])
    if flagged:
        log.info("rollout.flagged", deriver=deriver.name, version=deriver.version,
                 flagged=flagged, cursor=ids[-1])
    return len(ids)
