"""Version rollouts: flag existing activities whose output of a deriver is behind the code,
as the rollout's state (preview, running, paused, rolling back...) and throttle allow."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from activities.models import Activity, Derived
from core import derivers
from core.derivers import Deriver
from reconciler.derivation import flags
from reconciler.models import Rollout, RolloutAction
from reconciler.rollouts import previews, rollback

log = structlog.get_logger(__name__)

#: The throttle's window: `rollout throttle N` is N activities per minute, fleet-wide.
WINDOW = timedelta(minutes=1)

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
    """Move every unfinished rollout of this code's versions on by one step (a batch of
    activity ids, a preview's sample chosen, a batch of outputs restored); returns how
    many activities were looked at (0: nothing left to do now)."""
    scanned = 0
    for deriver in derivers.ALL:
        key = (deriver.name, deriver.version)
        if key not in SEEN.finished:
            rollout = _rollout_of(deriver, now=now)
            if rollout.finished_at is None:
                scanned += _step(rollout, deriver, now=now, batch=batch)
                continue
            SEEN.finished.add(key)
        scanned += _flag_stragglers(deriver, now=now, batch=batch)
    return scanned


def _rollout_of(deriver: Deriver, *, now: datetime) -> Rollout:
    """This code's rollout of `deriver`, started on first sight: in preview when the
    policy (CAIRN_ROLLOUT_PREVIEW) says so and there are older outputs to compare with,
    else running (a fresh install, or previews and charts: promoted at once)."""
    found = Rollout.objects.filter(deriver=deriver.name, version=deriver.version).first()
    if found is not None:
        return found
    preview = (deriver.name in settings.CAIRN_ROLLOUT_PREVIEW and Derived.objects.filter(
        deriver=deriver.name, version__lt=deriver.version).exists())
    state = Rollout.State.PREVIEW if preview else Rollout.State.RUNNING
    try:
        with transaction.atomic():
            rollout = Rollout.objects.create(
                deriver=deriver.name, version=deriver.version, state=state,
                keep_previous=preview, started_at=now,
                promoted_at=None if preview else now)
            if preview:  # one an operator must act on (others run and finish alone)
                RolloutAction.objects.create(rollout=rollout, action="start", by="deploy",
                                             at=now, to_state=state)
            _supersede(rollout, now=now)
    except IntegrityError:  # another sweeper started it first
        return Rollout.objects.get(deriver=deriver.name, version=deriver.version)
    log.info("rollout.started", deriver=deriver.name, version=deriver.version, state=state)
    return rollout


def _supersede(rollout: Rollout, *, now: datetime) -> None:
    """An older version's rollout still unfinished when a newer one starts (a fix deployed
    over a preview or a rollback) is over: its shadow and kept outputs go; the new
    rollout keeps what it overwrites itself."""
    for older in Rollout.objects.filter(deriver=rollout.deriver, finished_at=None,
                                        version__lt=rollout.version):
        RolloutAction.objects.create(rollout=older, action="superseded", by="deploy", at=now,
                                     from_state=older.state, to_state=Rollout.State.FINISHED,
                                     detail=f"by version {rollout.version}")
        older.kept.all().delete()
        older.samples.all().delete()
        older.state, older.finished_at = Rollout.State.FINISHED, now
        older.save(update_fields=["state", "finished_at"])


def _step(rollout: Rollout, deriver: Deriver, *, now: datetime, batch: int) -> int:
    if rollout.state == Rollout.State.PREVIEW and rollout.sampled_at is None:
        previews.choose_sample(rollout.pk, now=now)
        return 0
    if rollout.state == Rollout.State.RUNNING:
        return _advance_one(rollout.pk, deriver, now=now, batch=batch)
    if rollout.state in (Rollout.State.ROLLING_BACK, Rollout.State.ROLLED_BACK):
        return rollback.restore(rollout.pk, now=now, batch=batch)
    return 0  # preview (computed after the claims), paused, done


def _flag_stragglers(deriver: Deriver, *, now: datetime, batch: int) -> int:
    """Flag outputs older than the code that appeared after its rollout finished (a worker
    still on old code wrote them during a deploy). An index probe on derived_by_version:
    normally it finds nothing."""
    last = SEEN.stragglers_checked.get(deriver.name)
    if last is not None and time.monotonic() - last < STRAGGLERS_EVERY_S:
        return 0
    SEEN.stragglers_checked[deriver.name] = time.monotonic()
    ids = _old_outputs(deriver, limit=batch)
    flagged = flags.flag(ids, now=now, priority=Activity.Priority.BACKFILL)
    if flagged:
        log.info("rollout.stragglers_flagged", deriver=deriver.name, version=deriver.version,
                 flagged=flagged)
    return len(ids)


def _old_outputs(deriver: Deriver, *, limit: int) -> list[int]:
    """Activities not pending whose output of `deriver` is older than the code's (index
    derived_by_version): what a backfill has still to flag."""
    return list(_old(deriver).filter(activity__needs_work=False)
                .values_list("activity_id", flat=True)[:limit])


def _backfill_pending() -> bool:
    """Whether any activity waits at backfill priority (an index probe on
    activity_pending, whatever the table's size)."""
    return Activity.objects.filter(needs_work=True,
                                   priority=Activity.Priority.BACKFILL).exists()


def _old(deriver: Deriver):
    """Outputs of `deriver` older than the code's, of live activities a rebuild can reach
    (a dead one waits for a replay; a failed one's failed input would block it again)."""
    return Derived.objects.filter(
        deriver=deriver.name, version__lt=deriver.version, activity__deleted_at=None,
    ).exclude(activity__status__in=[Activity.Status.DEAD, Activity.Status.FAILED])


def allowance(rollout: Rollout, *, now: datetime) -> int | None:
    """How many more activities the throttle lets this rollout flag in the current
    minute (None: no throttle); starts a new minute's window when the last one is over.
    Counted on the rollout's row, under its lock, so it holds across the fleet."""
    if rollout.throttle_per_min is None:
        return None
    if rollout.window_start is None or now - rollout.window_start >= WINDOW:
        rollout.window_start, rollout.window_count = now, 0
    return max(rollout.throttle_per_min - rollout.window_count, 0)


def _advance_one(pk: int, deriver: Deriver, *, now: datetime, batch: int) -> int:
    with transaction.atomic():
        # Another sweeper advancing the same rollout holds the row: skip, do not wait.
        # An operator's pause or rollback meanwhile waits for this step, then applies.
        rollout = (Rollout.objects.select_for_update(skip_locked=True)
                   .filter(pk=pk, state=Rollout.State.RUNNING).first())
        if rollout is None:
            return 0
        room = allowance(rollout, now=now)
        if room == 0:
            rollout.save(update_fields=["window_start", "window_count"])
            return 0
        # A primary-key range: bounded work whatever the table's size.
        ids = list(Activity.objects.filter(id__gt=rollout.cursor).order_by("id")
                   .values_list("id", flat=True)[:batch])
        if not ids:
            return _complete(rollout, deriver, now=now, room=room, batch=batch)
        # By the batch's ids alone (index derived_one_per_kind): a version predicate here
        # would let the planner scan every current output of the deriver instead.
        stored = dict(Derived.objects.filter(activity_id__in=ids, deriver=deriver.name)
                      .values_list("activity_id", "version"))
        behind = [i for i in ids if stored.get(i, 0) < deriver.version]
        cursor = ids[-1]
        if room is not None and len(behind) > room:
            behind = behind[:room]
            cursor = behind[-1] if behind else cursor  # the rest waits for the next minute
        flagged = flags.flag(behind, now=now, priority=Activity.Priority.BACKFILL)
        rollout.cursor = cursor
        rollout.flagged += flagged
        rollout.window_count += len(behind)
        rollout.save(update_fields=["cursor", "flagged", "window_start", "window_count"])
    if flagged:
        log.info("rollout.flagged", deriver=deriver.name, version=deriver.version,
                 flagged=flagged, cursor=cursor)
    return len(ids)


def _complete(rollout: Rollout, deriver: Deriver, *, now: datetime, room: int | None,
              batch: int) -> int:
    """The cursor is past the last activity: flag what is still old (activities cleared
    while the rollout was paused, or by old code) and, once nothing is, end the
    backfill: finished, or done and waiting for an operator's `finish` while previous
    outputs are kept. Inside the caller's transaction, the row locked.

    While activities flagged for backfill are still pending, it waits: the old outputs
    are then mostly theirs, and looking for the few not pending among them would read
    every one of them each round (millions, for hours, after a bump of a large table).
    Once the backfill has drained, what is still old is what needs flagging again."""
    if _backfill_pending():
        return 0
    ids = _old_outputs(deriver, limit=batch if room is None else room)
    if ids:
        flagged = flags.flag(ids, now=now, priority=Activity.Priority.BACKFILL)
        rollout.flagged += flagged
        rollout.window_count += len(ids)
        rollout.save(update_fields=["flagged", "window_start", "window_count"])
        return len(ids)
    if _old(deriver).exists():
        return 0  # the last of them are being rebuilt
    state = Rollout.State.DONE if rollout.keep_previous else Rollout.State.FINISHED
    rollout.state = state
    rollout.finished_at = None if rollout.keep_previous else now
    rollout.save(update_fields=["state", "finished_at"])
    if rollout.keep_previous:
        RolloutAction.objects.create(rollout=rollout, action="backfilled", by="sweep",
                                     at=now, from_state=Rollout.State.RUNNING, to_state=state)
    log.info("rollout.backfilled", deriver=deriver.name, version=deriver.version,
             flagged=rollout.flagged, state=state)
    return 0
