"""What an operator does to a rollout (the `rollout` command, the staff page): each action
is one conditional UPDATE of the rollout's row from the states it may leave, recorded with
who and when in the same transaction, so that two operators acting at once cannot both
win a conflicting change, nor leave a state that no action recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from django.db import transaction

from activities.models import Derived
from core import derivers
from reconciler.models import KeptOutput, Rollout, RolloutAction
from reconciler.rollouts import previews

log = structlog.get_logger(__name__)
State = Rollout.State

#: action -> (the states it may leave, the state it reaches).
MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    "promote": ((State.PREVIEW, State.ROLLED_BACK), State.RUNNING),
    "pause": ((State.RUNNING,), State.PAUSED),
    "resume": ((State.PAUSED,), State.RUNNING),
    "rollback": ((State.PREVIEW, State.RUNNING, State.PAUSED, State.DONE),
                 State.ROLLING_BACK),
    "finish": ((State.DONE,), State.FINISHED),
}


class Refused(Exception):
    """The action does not apply to the rollout as it is now: a sentence saying why."""


@dataclass(frozen=True)
class Done:
    rollout: Rollout
    message: str


def current(deriver: str | None = None) -> Rollout:
    """The rollout an action without an id means: the unfinished rollout of this code's
    version (of `deriver`, needed when several are unfinished)."""
    found = [r for r in Rollout.objects.filter(finished_at=None).order_by("id")
             if derivers.VERSIONS.get(r.deriver) == r.version
             and (deriver is None or r.deriver == deriver)]
    if not found:
        which = f" of {deriver}" if deriver else ""
        raise Refused(f"No rollout{which} in progress for this code's versions.")
    if len(found) > 1:
        names = ", ".join(str(r) for r in found)
        raise Refused(f"Several rollouts are in progress ({names}): name one with --deriver.")
    return found[0]


def act(rollout_id: int, action: str, *, by: str, now: datetime) -> Done:
    """Move the rollout by `action` (MOVES) if its state allows; else Refused."""
    if action not in MOVES:
        raise Refused(f"Unknown action {action!r}: one of {', '.join(MOVES)}.")
    sources, target = MOVES[action]
    fields: dict = {"state": target}
    if target == State.RUNNING:
        # Promote walks every activity again (cheap where nothing is old); the ETA counts
        # from here.
        fields |= {"promoted_at": now, "window_start": None, "window_count": 0}
        if action == "promote":
            fields |= {"cursor": 0, "old_at_promote": _old_count(rollout_id)}
    if target == State.FINISHED:
        fields |= {"finished_at": now}
    with transaction.atomic():
        # Locked: a second operator's action waits here, then finds the state we left.
        before = (Rollout.objects.select_for_update().filter(id=rollout_id)
                  .values_list("state", flat=True).first())
        if before is None:
            raise Refused(f"No rollout {rollout_id}.")
        moved = Rollout.objects.filter(id=rollout_id, state__in=sources).update(**fields)
        if moved != 1:
            now_state = Rollout.objects.values_list("state", flat=True).get(id=rollout_id)
            raise Refused(f"Cannot {action} a rollout that is {now_state.replace('_', ' ')}"
                          f" (it can from: {', '.join(s.replace('_', ' ') for s in sources)}).")
        rollout = Rollout.objects.get(id=rollout_id)
        _record(rollout, action, by=by, now=now, from_state=before, to_state=target)
        dropped = KeptOutput.objects.filter(rollout=rollout).delete()[0] if (
            target == State.FINISHED) else 0
    log.info("rollout.acted", deriver=rollout.deriver, version=rollout.version,
             action=action, by=by, state=target)
    detail = f"; {dropped} kept previous outputs dropped" if dropped else ""
    return Done(rollout, f"{rollout}: {action} by {by}, now {_word(target)}{detail}.")


def throttle(rollout_id: int, per_min: int | None, *, by: str, now: datetime) -> Done:
    """Set the throttle (activities flagged per minute, fleet-wide; None or 0: none)."""
    value = per_min or None
    with transaction.atomic():
        moved = Rollout.objects.filter(id=rollout_id, finished_at=None).update(
            throttle_per_min=value)
        if moved != 1:
            raise Refused(f"No unfinished rollout {rollout_id}.")
        rollout = Rollout.objects.get(id=rollout_id)
        detail = f"{value} per minute" if value else "none"
        _record(rollout, "throttle", by=by, now=now, from_state=rollout.state,
                to_state=rollout.state, detail=detail)
    return Done(rollout, f"{rollout}: throttle {detail}, set by {by}.")


def sample(rollout_id: int, activity_ids: list[int], *, by: str, now: datetime) -> Done:
    """Add operator-named activities to a preview's sample."""
    with transaction.atomic():
        rollout = Rollout.objects.select_for_update().filter(id=rollout_id).first()
        if rollout is None or rollout.state != State.PREVIEW:
            raise Refused("Activities can be added to a rollout's sample only in preview.")
        added = previews.name(rollout, activity_ids, now=now)
        _record(rollout, "sample", by=by, now=now, from_state=rollout.state,
                to_state=rollout.state, detail=f"ids {' '.join(map(str, activity_ids))}"[:255])
    return Done(rollout, f"{rollout}: {added} named activities added to the sample.")


def _record(rollout: Rollout, action: str, *, by: str, now: datetime, from_state: str,
            to_state: str, detail: str = "") -> None:
    RolloutAction.objects.create(rollout=rollout, action=action, by=by[:150], at=now,
                                 from_state=from_state, to_state=to_state, detail=detail)


def _old_count(rollout_id: int) -> int:
    deriver, version = Rollout.objects.values_list("deriver", "version").get(id=rollout_id)
    return Derived.objects.filter(deriver=deriver, version__lt=version).count()


def _word(state: str) -> str:
    return state.replace("_", " ")

