"""Webhook metrics: deliveries by outcome (per process), and the outbox and the breakers
read from where every worker sees them when /metrics is scraped."""

from __future__ import annotations

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily

DELIVERIES = Counter("cairn_webhook_deliveries_total", "Webhook tries and hand-backs, by "
                     "outcome (delivered, retrying, dead, lease_lost, breaker_open).",
                     ["outcome"])


class Collector:
    """Gauges read at scrape time: deliveries by state, and each breaker's state."""

    def collect(self):
        from webhooks import drift
        from work import clock

        counts = drift.count(now=clock.now())
        states = GaugeMetricFamily("cairn_webhook_deliveries", "Webhook deliveries by state.",
                                   labels=["state"])
        for state in ("pending", "retrying", "dead"):
            states.add_metric([state], counts[state])
        yield states
        gauge = GaugeMetricFamily("cairn_breaker_state", "Circuit breaker per webhook "
                                  "destination: 0 closed, 1 open, 2 half-open.",
                                  labels=["destination"])
        from webhooks import breaker

        for destination, state in counts["breakers"].items():
            gauge.add_metric([destination], breaker.GAUGE[state])
        yield gauge
