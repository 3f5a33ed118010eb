"""Rolling a rollout back: the sweep restores the outputs it kept, a batch a round."""

from __future__ import annotations

import json
from datetime import datetime

import structlog
from django.db import transaction
from django.utils.dateparse import parse_datetime

from activities.models import Activity, Derived
from core import derivers
from reconciler.models import KeptOutput, Rollout, RolloutAction

log = structlog.get_logger(__name__)


def restore(pk: int, *, now: datetime, batch: int) -> int:
    """Put up to `batch` kept outputs back, byte for byte, and drop the copies; once none
    is left, the rollout is rolled back. Returns how many were restored.

    1. The rollout's row is locked (another sweeper skips it), and so are the activities
       restored, and only those no worker holds: a worker that settles later finds the
       output held (rollout_state.HELD) and leaves it; a leased one waits a round.
    2. Each step is one transaction: a crash between steps loses nothing, and the next
       sweep goes on with what is still kept.
    """
    with transaction.atomic():
        # Rolled back too: a worker that claimed before the rollback may settle after the
        # last batch, and what it overwrote was kept: it goes back the round after.
        rollout = (Rollout.objects.select_for_update(skip_locked=True)
                   .filter(pk=pk, state__in=[Rollout.State.ROLLING_BACK,
                                             Rollout.State.ROLLED_BACK]).first())
        if rollout is None:
            return 0
        kept = list(KeptOutput.objects.filter(rollout=rollout).order_by("id")[:batch])
        free = set(Activity.objects.select_for_update().filter(
            id__in={k.activity_id for k in kept}, lease_token=None).values_list("id", flat=True))
        mine = [k for k in kept if k.activity_id in free]
        _put_back(mine)
        KeptOutput.objects.filter(id__in=[k.id for k in mine]).delete()
        if (mine or rollout.state == Rollout.State.ROLLED_BACK
                or KeptOutput.objects.filter(rollout=rollout).exists()):
            return len(mine)
        rollout.state = Rollout.State.ROLLED_BACK
        rollout.save(update_fields=["state"])
        RolloutAction.objects.create(rollout=rollout, action="restored", by="sweep", at=now,
                                     from_state=Rollout.State.ROLLING_BACK,
                                     to_state=Rollout.State.ROLLED_BACK)
    log.info("rollout.rolled_back", deriver=rollout.deriver, version=rollout.version)
    return 0


def _put_back(kept: list[KeptOutput]) -> None:
    """The kept rows become the stored outputs again; a restored summary gives the
    activity its start time and sport back too (what settle writes from it)."""
    Derived.objects.bulk_create(
        [Derived(activity_id=k.activity_id, deriver=k.deriver, version=k.version,
                 status=k.status, data=k.data,
                 digest=derivers.digest(bytes(k.data)) if k.data is not None else None,
                 error_code=k.error_code, error_message=k.error_message,
                 duration_ms=k.duration_ms, updated_at=k.updated_at) for k in kept],
        update_conflicts=True, unique_fields=["activity", "deriver"],
        update_fields=["version", "status", "data", "digest", "error_code", "error_message",
                       "duration_ms", "updated_at"])
    for k in kept:
        if k.deriver == "summary" and k.data is not None:
            summary = json.loads(bytes(k.data))
            Activity.objects.filter(id=k.activity_id).update(
                start_time=parse_datetime(summary.get("start_time") or ""),
                sport=(summary.get("sport") or "")[:64])
