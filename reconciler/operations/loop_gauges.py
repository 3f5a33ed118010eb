"""Gauges of the loop's own health read from the database when /metrics is scraped: when
a sweep last ran (on any host), and how long each unfinished rollout has been in its state
(the alert rules in deploy/prometheus/ read both)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Max
from prometheus_client.core import GaugeMetricFamily

from reconciler.models import Rollout, Worker
from work import clock


def last_sweep_age_s(*, now: datetime) -> float | None:
    """Seconds since the last sweep round of any worker (None: none ever ran)."""
    last = Worker.objects.aggregate(at=Max("last_sweep_at"))["at"]
    return round((now - last).total_seconds(), 1) if last else None


def rollout_states(*, now: datetime) -> list[tuple[str, int, str, float]]:
    """(deriver, version, state, seconds in that state) of every unfinished rollout: since
    its last action (promote, pause, ...), or its start when none was taken."""
    found = (Rollout.objects.filter(finished_at=None).annotate(since=Max("actions__at"))
             .order_by("id").values_list("deriver", "version", "state", "started_at", "since"))
    return [(deriver, version, state, round((now - (since or started)).total_seconds(), 1))
            for deriver, version, state, started, since in found]


class Collector:
    def collect(self):
        now = clock.now()
        age_s = last_sweep_age_s(now=now)
        if age_s is not None:  # none yet: the alert's absent() says so, not a made-up age
            yield GaugeMetricFamily("cairn_sweep_last_age_seconds", "Seconds since the last "
                                    "sweep round of any worker.", value=age_s)
        states = GaugeMetricFamily("cairn_rollout_state_age_seconds", "Seconds each "
                                   "unfinished rollout has been in its state (preview, "
                                   "running, paused, rolling_back, rolled_back, done).",
                                   labels=["deriver", "version", "state"])
        for deriver, version, state, seconds in rollout_states(now=now):
            states.add_metric([deriver, str(version), state], seconds)
        yield states
