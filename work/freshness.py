"""How fresh each kind's rows are, fresh work and backfill apart: how long a row took from
needing work to needing none (observed where the kernel releases it), and how long the
oldest row still needing work has waited (read at scrape time). For the activities kind,
fresh, this is what users see: an upload's time to ready (README, "Operating Cairn")."""

from __future__ import annotations

from datetime import datetime

from prometheus_client.core import GaugeMetricFamily

from work import clock, kinds, metrics
from work.kinds import Kind
from work.models import Leased

#: Priority numbers by the name the metrics use: fresh, backfill.
PRIORITIES = {choice.label: choice.value for choice in Leased.Priority}


def settled(kind: Kind, *, since: datetime | None, priority: int, outcome: str,
            now: datetime) -> None:
    """A row of `kind` needs no more work (converged, failed or dead): count the time
    since it started needing it. A row without `pending_since` (kept from before the field
    was set everywhere) is not counted rather than guessed."""
    if since is None:
        return
    metrics.WORK_DUE_TO_DONE.labels(
        kind=kind.name, priority=Leased.Priority(priority).label, outcome=outcome,
    ).observe(max((now - since).total_seconds(), 0.0))


def oldest_pending(kind: Kind, *, now: datetime) -> dict[str, float | None]:
    """{priority: seconds} the oldest of the kind's rows still needing work has waited
    since it started needing it (None: none waits). One probe per priority, in the order
    of the kind's (priority, pending_since) index of rows needing work: a scrape during a
    backfill of millions reads a row, not the backlog."""
    pending = kind.model.objects.filter(kind.rows(), needs_work=True,
                                        pending_since__isnull=False)
    found = {name: pending.filter(priority=value).order_by("pending_since")
             .values_list("pending_since", flat=True).first()
             for name, value in PRIORITIES.items()}
    return {name: round((now - since).total_seconds(), 1) if since else None
            for name, since in found.items()}


class Collector:
    """cairn_work_oldest_pending_age_seconds{kind,priority}, read when /metrics is scraped:
    every registered kind, with nothing else to write."""

    def collect(self):
        now = clock.now()
        gauge = GaugeMetricFamily(
            "cairn_work_oldest_pending_age_seconds", "How long the oldest row of each kind "
            "still needing work has waited since it started needing it, fresh and backfill "
            "apart (0: none waits). For activities, fresh: the oldest upload not yet ready.",
            labels=["kind", "priority"])
        for name, kind in sorted(kinds.ALL.items()):
            for priority, age_s in oldest_pending(kind, now=now).items():
                gauge.add_metric([name, priority], age_s or 0)
        yield gauge
