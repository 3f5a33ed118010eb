"""/metrics: the processes' counters plus drift gauges read from the database."""

from __future__ import annotations

import hmac
import os

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from reconciler.operations import drift, loop_gauges
from records import drift as record_drift
from training import drift as training_drift
from transfers import drift as transfers_drift
from webhooks import metrics as webhooks_metrics
from work import clock, freshness
from work import drift as work_drift

_STATES = ("total", "pending", "missing", "stale_leases", "leased", "retrying", "forced",
           "failed", "dead")


class DriftCollector:
    """Gauges computed from the database when scraped."""

    def collect(self):
        now = clock.now()
        counts = drift.count(now=now)
        states = GaugeMetricFamily("cairn_activities", "Activities by reconcile state "
                                   "(drift --json).", labels=["state"])
        for state in _STATES:
            states.add_metric([state], counts[state])
        yield states
        old = GaugeMetricFamily("cairn_old_version_outputs", "Stored outputs older than "
                                "this code's version, by deriver.", labels=["deriver"])
        for deriver, n in counts["old_version"].items():
            old.add_metric([deriver], n)
        yield old
        yield GaugeMetricFamily("cairn_oldest_pending_age_seconds", "Age of the oldest "
                                "activity waiting for work.",
                                value=counts["oldest_pending_age_s"] or 0)
        seen = GaugeMetricFamily("cairn_worker_last_seen_age_seconds", "Seconds since each "
                                 "worker's last heartbeat.", labels=["worker", "outdated"])
        for worker in drift.worker_rows(now=now):
            seen.add_metric([worker.id, str(worker.outdated).lower()], worker.age_s)
        yield seen
        books = GaugeMetricFamily("cairn_record_books", "Users' record books by reconcile "
                                  "state (drift --json's records).", labels=["state"])
        for state in record_drift.STATES:
            books.add_metric([state], counts["records"][state])
        yield books
        training = GaugeMetricFamily("cairn_training_books", "Users' training books by "
                                     "reconcile state, and loads missing (drift --json's "
                                     "training).", labels=["state"])
        for state in training_drift.STATES:
            training.add_metric([state], counts["training"][state])
        yield training
        sessions = GaugeMetricFamily("cairn_upload_sessions", "Upload sessions (presigned "
                                     "and tus) by reconcile state (drift --json's "
                                     "sessions).", labels=["state"])
        for state in transfers_drift.STATES:
            sessions.add_metric([state], counts["sessions"][state])
        yield sessions
        yield GaugeMetricFamily("cairn_upload_session_oldest_arrived_age_seconds",
                                "How long the longest-due upload session has waited for "
                                "the sweep's look.",
                                value=counts["sessions"]["oldest_arrived_age_s"] or 0)
        yield from work_gauges(counts["work"])


def work_gauges(work: dict[str, dict]):
    """Every registered kind's rows by state, and how long its longest-due row has waited
    (drift --json's "work"): a kind registered appears here with nothing else to write."""
    rows = GaugeMetricFamily("cairn_work_rows", "Rows of each kind of reconciled work by "
                             "state (drift --json's work).", labels=["kind", "state"])
    oldest = GaugeMetricFamily("cairn_work_oldest_due_age_seconds", "How long each kind's "
                               "longest-due row has waited for a claim (0: none due).",
                               labels=["kind"])
    for kind, found in work.items():
        for state in work_drift.STATES:
            if found[state] is not None:  # a kind that keeps no failed rows apart
                rows.add_metric([kind, state], found[state])
        oldest.add_metric([kind], found["oldest_due_age_s"] or 0)
    yield rows
    yield oldest


def metrics(request: HttpRequest) -> HttpResponse:
    token = settings.CAIRN_METRICS_TOKEN
    # In constant time: how long a wrong guess takes says nothing about the token.
    if token and not hmac.compare_digest(request.headers.get("Authorization", "").encode(),
                                         f"Bearer {token}".encode()):
        return HttpResponse("metrics need the configured bearer token\n", status=401,
                            content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        processes = CollectorRegistry()
        MultiProcessCollector(processes)
    else:
        processes = REGISTRY
    database = CollectorRegistry()
    database.register(DriftCollector())
    database.register(webhooks_metrics.Collector())
    database.register(freshness.Collector())
    database.register(loop_gauges.Collector())
    body = generate_latest(processes) + generate_latest(database)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
