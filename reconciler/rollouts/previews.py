"""A rollout's preview: the new code computes a stratified sample of activities into
shadow outputs (never what users see), a few per sweep, after the sweep's claims. Each
sample is a leased row of the kind "preview" (reconciler.rollouts.preview_kind): `compute` is its
work on one leased sample."""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction

from activities import revisions, storage
from activities.models import Activity, Derived
from core import derivers
from core.derivers import DeriveError
from reconciler.models import PreviewSample, Rollout, ShadowOutput
from reconciler.rollouts import state as rollout_state
from work import clock, kinds, leases
from work.outcomes import Done, Outcome, Wait

log = structlog.get_logger(__name__)

NAMED = "named"


def choose_sample(pk: int, *, now: datetime) -> int:
    """Choose the preview's sample once: CAIRN_PREVIEW_SAMPLE activities whose output of
    the rollout's deriver is older, shared out over (sport, file format) in proportion,
    every stratum at least one, evenly spread over each stratum's ids. Returns its size."""
    with transaction.atomic():
        rollout = (Rollout.objects.select_for_update(skip_locked=True)
                   .filter(pk=pk, sampled_at=None).first())
        if rollout is None:
            return 0
        strata = _strata(rollout)
        quota = shares({key: len(ids) for key, ids in strata.items()},
                       settings.CAIRN_PREVIEW_SAMPLE)
        rows = [PreviewSample(rollout=rollout, activity_id=i, stratum=key, due_at=now,
                              pending_since=now)
                for key, ids in strata.items() for i in spread(ids, quota[key])]
        PreviewSample.objects.bulk_create(rows, ignore_conflicts=True)
        rollout.sampled_at = now
        rollout.save(update_fields=["sampled_at"])
    log.info("preview.sampled", deriver=rollout.deriver, version=rollout.version,
             sample=len(rows), strata=len(strata))
    return len(rows)


def _strata(rollout: Rollout) -> dict[str, list[int]]:
    """Live activities with an older output of the deriver, by "<sport>/<format>", ids
    ascending (one pass over derived_by_version's old entries)."""
    found: dict[str, list[int]] = defaultdict(list)
    rows = (Activity.objects.live().filter(derived__deriver=rollout.deriver,
                                           derived__version__lt=rollout.version)
            .order_by("id").values_list("id", "sport", "format"))
    for activity_id, sport, fmt in rows.iterator(chunk_size=5000):
        found[f"{sport or 'unknown'}/{fmt}"].append(activity_id)
    return dict(found)


def shares(sizes: dict[str, int], total: int) -> dict[str, int]:
    """Split `total` over strata in proportion to their sizes (largest remainders), each
    stratum at least one while there is room, never more than it holds."""
    keys = sorted(sizes, key=lambda k: (-sizes[k], k))
    whole = sum(sizes.values())
    if whole <= total:
        return dict(sizes)
    quota = {k: 0 for k in keys}
    for k in keys[:total]:
        quota[k] = 1
    left = total - sum(quota.values())
    exact = {k: left * sizes[k] / whole for k in keys}
    for k in keys:
        quota[k] += min(math.floor(exact[k]), sizes[k] - quota[k])
    for k in sorted(keys, key=lambda k: (-(exact[k] - math.floor(exact[k])), k)):
        if sum(quota.values()) >= total:
            break
        if quota[k] < sizes[k]:
            quota[k] += 1
    return quota


def spread(ids: list[int], n: int) -> list[int]:
    """`n` of `ids`, evenly spaced (old and new activities alike)."""
    if n >= len(ids):
        return list(ids)
    return [ids[math.floor(k * len(ids) / n)] for k in range(n)]


def name(rollout: Rollout, activity_ids: Iterable[int], *, now: datetime) -> int:
    """Add operator-named activities to the sample (computed by the next sweeps); returns
    how many were new to it."""
    live = set(Activity.objects.live().filter(id__in=list(activity_ids))
               .values_list("id", flat=True))
    added = 0
    for activity_id in sorted(live):
        try:
            with transaction.atomic():
                PreviewSample.objects.create(rollout=rollout, activity_id=activity_id,
                                             stratum=NAMED, due_at=now, pending_since=now)
            added += 1
        except IntegrityError:  # already in the sample: computed again with the others
            PreviewSample.objects.filter(rollout=rollout, activity_id=activity_id).update(
                stratum=NAMED)
    return added


def compute(lease: leases.Lease) -> Outcome:
    """Compute one leased sample under the new code and store its shadow outputs under the
    fence (a computer that lost its lease writes nothing). The store of originals away is
    a wait, never a failure of the new code."""
    sample = PreviewSample.objects.select_related("rollout").get(id=lease.row_id)
    try:
        shadow = run(sample.activity_id, sample.rollout.deriver)
    except storage.Unavailable as error:
        log.warning("preview.store_unavailable", sample_id=sample.id, error=str(error))
        return Wait(until=clock.now() + timedelta(seconds=settings.CAIRN_BACKOFF_BASE_S),
                    reason=error.code)
    now = clock.now()
    with transaction.atomic():
        leases.hold(kinds.get(lease.kind), lease, now=now)
        _store(sample, shadow)
    return Done(fields={"computed_at": now}, detail={"derivers": sorted(shadow)})


Shadow = dict[str, tuple[str, bytes | None, str, str, int]]


def run(activity_id: int, changed: str) -> Shadow:
    """The new code's outputs of `changed` and what reads it, for one activity: each
    deriver reads the stored inputs it does not recompute, decoded from their bytes as a
    rebuild would. Every failure is caught and kept with its reason."""
    names = rollout_state.closure(changed)
    stored = {row.deriver: bytes(row.data) for row in Derived.objects.filter(
        activity_id=activity_id, data__isnull=False, status=Derived.Status.READY)}
    values: dict[str, Any] = {}
    out: Shadow = {}
    for deriver in derivers.ALL:
        if deriver.name not in names:
            continue
        started = time.monotonic()
        try:
            inputs = _inputs(activity_id, deriver.needs, values, stored, out)
            data = deriver.codec.dumps(deriver.derive(*inputs))
            values[deriver.name] = deriver.codec.loads(data)
            out[deriver.name] = ("ready", data, "", "", _ms(started))
        except DeriveError as error:
            if error.code == storage.Unavailable.code:
                raise storage.Unavailable(str(error)) from error  # the sample waits
            out[deriver.name] = ("failed", None, error.code, str(error), _ms(started))
        except storage.Unavailable:
            raise  # not the new code's doing: the sample waits (compute)
        except Exception as error:  # noqa: BLE001 (a crash under the new code is a finding)
            out[deriver.name] = ("failed", None, type(error).__name__,
                                 f"The new code crashed: {error}", _ms(started))
    return out


def _inputs(activity_id: int, needs: tuple[str, ...], values: dict[str, Any],
            stored: dict[str, bytes], out: Shadow) -> list[Any]:
    if not needs:
        return revisions.track_inputs(activity_id)
    inputs = []
    for need in needs:
        if need in values:
            inputs.append(values[need])
        elif need in out:
            raise DeriveError(f"Its input {need} failed under the new code.",
                              code="InputFailed", permanent=True)
        elif need in stored:
            inputs.append(derivers.BY_NAME[need].codec.loads(stored[need]))
        else:
            raise DeriveError(f"Its input {need} is not stored.", code="InputMissing",
                              permanent=True)
    return inputs


def _store(sample: PreviewSample, shadow: Shadow) -> None:
    ShadowOutput.objects.bulk_create(
        [ShadowOutput(sample=sample, deriver=name, status=status, data=data,
                      error_code=code, error_message=message, duration_ms=ms)
         for name, (status, data, code, message, ms) in shadow.items()],
        update_conflicts=True, unique_fields=["sample", "deriver"],
        update_fields=["status", "data", "error_code", "error_message", "duration_ms"])


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
