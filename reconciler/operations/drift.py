"""What differs from the wanted state, and how much (the `drift` command's numbers)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Min, Q, QuerySet

from activities.models import Activity, Derived
from activities.serialize import iso
from core import derivers
from reconciler.models import Rollout, Worker
from reconciler.operations import workers
from records import drift as record_drift
from records import rebuild as record_rebuild
from training import drift as training_drift
from training import rebuild as training_rebuild
from transfers import drift as transfers_drift
from webhooks import drift as webhooks_drift
from work import drift as work_drift


def pending() -> QuerySet[Activity]:
    """Activities that need work (served by the partial index activity_pending)."""
    return Activity.objects.filter(needs_work=True)


def count(*, now: datetime) -> dict:
    """The drift counts, as `drift --json` prints them (DESIGN.md "Interfaces").

    Every count but `total` and `old_version` runs over the pending set or a partial
    index, so it costs what the drift costs, not what the table holds.
    """
    work = pending().aggregate(
        pending=Count("id"),
        missing=Count("id", filter=Q(processed_at__isnull=True, lease_token__isnull=True)),
        stale_leases=Count("id", filter=Q(lease_token__isnull=False,
                                          lease_expires_at__lte=now)),
        leased=Count("id", filter=Q(lease_token__isnull=False, lease_expires_at__gt=now)),
        retrying=Count("id", filter=Q(lease_token__isnull=True, attempts__gt=0)),
        oldest=Min("pending_since"),
    )
    settled = (Activity.objects.filter(status__in=["failed", "dead"])
               .values("status").annotate(n=Count("id")))
    by_status = {row["status"]: row["n"] for row in settled}
    forced = (Derived.objects.filter(status=Derived.Status.STALE)
              .values("activity_id").distinct().count())
    oldest = work.pop("oldest")
    return {
        "total": Activity.objects.count(),
        **work,
        "old_version": old_versions(),
        "forced": forced,
        "failed": by_status.get("failed", 0),
        "dead": by_status.get("dead", 0),
        "oldest_pending_age_s": round((now - oldest).total_seconds(), 1) if oldest else None,
        "rollouts": rollouts_in_progress(),
        "workers": workers_seen(now=now),
        "webhooks": webhooks_drift.count(now=now),
        "records": record_drift.count(now=now, version=record_rebuild.VERSION),
        "training": training_drift.count(now=now, version=training_rebuild.VERSION),
        "sessions": transfers_drift.count(now=now),
        # Every registered kind of work, the same fields for each (work.drift).
        "work": work_drift.counts(now=now),
    }


def old_versions() -> dict[str, int]:
    """Per deriver, stored outputs older than this code's version (index derived_by_version)."""
    return {
        d.name: Derived.objects.filter(deriver=d.name, version__lt=d.version).count()
        for d in derivers.ALL
    }


@dataclass(frozen=True)
class WorkerRow:
    id: str
    versions: dict[str, int]
    last_seen: datetime
    age_s: float
    live: bool
    outdated: bool
    last_sweep_at: datetime | None
    last_sweep_ms: int | None
    last_sweep_claimed: int | None


def worker_rows(*, now: datetime) -> list[WorkerRow]:
    """Workers seen in the last hour: live or not, and whether newer code runs elsewhere."""
    seen = list(Worker.objects.filter(last_seen__gte=now - timedelta(hours=1)).order_by("id"))
    live = {w.id for w in seen if w.last_seen >= now - workers.live_window()}
    newest: dict[str, int] = {}
    for worker in seen:
        if worker.id in live:
            for name, version in worker.versions.items():
                newest[name] = max(newest.get(name, 0), version)
    return [
        WorkerRow(id=w.id, versions=w.versions, last_seen=w.last_seen,
                  age_s=round((now - w.last_seen).total_seconds(), 1), live=w.id in live,
                  outdated=workers.is_outdated(w.versions, newest),
                  last_sweep_at=w.last_sweep_at, last_sweep_ms=w.last_sweep_ms,
                  last_sweep_claimed=w.last_sweep_claimed)
        for w in seen
    ]


def workers_seen(*, now: datetime) -> list[dict]:
    """worker_rows as drift --json prints them."""
    return [{"id": w.id, "versions": w.versions, "last_seen": iso(w.last_seen),
             "live": w.live, "outdated": w.outdated} for w in worker_rows(now=now)]


def last_sweep(*, now: datetime) -> WorkerRow | None:
    """The worker whose sweep ran last (its time, duration and claims)."""
    rows = [w for w in worker_rows(now=now) if w.last_sweep_at is not None]
    return max(rows, key=lambda w: w.last_sweep_at) if rows else None


def rollouts_in_progress() -> list[dict]:
    return [
        {"deriver": r.deriver, "version": r.version, "state": r.state, "cursor": r.cursor,
         "flagged": r.flagged}
        for r in Rollout.objects.filter(finished_at=None).order_by("id")
    ]
