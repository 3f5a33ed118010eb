"""What operators' rollouts mean to a worker: which older outputs still count as current
(held), and which outputs to keep, byte for byte, before a rebuild overwrites them."""

from __future__ import annotations

from collections.abc import Iterable

from activities.models import Derived
from core import derivers
from reconciler.models import KeptOutput, Rollout

State = Rollout.State

#: States in which users go on seeing the previous outputs: nothing rebuilds them for the
#: rollout, and a worker that reconciles the activity for another reason leaves them.
HELD = (State.PREVIEW, State.PAUSED, State.ROLLING_BACK, State.ROLLED_BACK)


def held() -> set[str]:
    """Derivers of this code whose rollout is held: their older outputs count as current."""
    rows = Rollout.objects.filter(state__in=HELD).values_list("deriver", "version")
    return {name for name, version in rows if derivers.VERSIONS.get(name) == version}


def closure(name: str) -> list[str]:
    """`name` and every deriver that reads it, directly or not, in dependency order: what a
    change of `name` can change."""
    changed = {name}
    for deriver in derivers.ALL:
        if any(n in changed for n in deriver.needs):
            changed.add(deriver.name)
    return [d.name for d in derivers.ALL if d.name in changed]


def keeping() -> dict[str, list[int]]:
    """Per output kind, the unfinished rollouts that keep its previous outputs."""
    kept: dict[str, list[int]] = {}
    for rollout_id, name in Rollout.objects.filter(
            keep_previous=True, finished_at=None).values_list("id", "deriver"):
        for output in closure(name):
            kept.setdefault(output, []).append(rollout_id)
    return kept


def keep(outputs: Iterable[tuple[int, str]]) -> int:
    """Copy the stored rows about to be overwritten (activity id, deriver) that a rollout
    keeps, inside the caller's transaction; the first copy wins, so a second rebuild
    never replaces what was there before the rollout. Returns how many were copied."""
    kept = keeping()
    wanted = {(i, name) for i, name in outputs if name in kept}
    if not wanted:
        return 0
    rows = Derived.objects.filter(activity_id__in={i for i, _ in wanted},
                                  deriver__in={name for _, name in wanted})
    # An output newer than this code is never overwritten (a partial deploy): not kept.
    copies = [KeptOutput(rollout_id=rollout_id, activity_id=row.activity_id,
                         deriver=row.deriver, version=row.version, status=row.status,
                         data=row.data, error_code=row.error_code,
                         error_message=row.error_message, duration_ms=row.duration_ms,
                         updated_at=row.updated_at)
              for row in rows if (row.activity_id, row.deriver) in wanted
              and row.version <= derivers.VERSIONS.get(row.deriver, row.version)
              for rollout_id in kept[row.deriver]]
    KeptOutput.objects.bulk_create(copies, ignore_conflicts=True)
    return len(copies)
