"""Prometheus metrics. Counters and histograms are per process; with
PROMETHEUS_MULTIPROC_DIR set (as `serve` does) every gunicorn and q2 process writes them
to that folder and /metrics adds them up. Drift gauges are read from the database at
scrape time, so they are right however many processes there are."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from work.metrics import EXPIRED_LEASES  # noqa: F401 (counted by the kernel, read here)

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

NUDGES = Counter("cairn_nudges_total", "Nudges sent to the task queue, by outcome.",
                 ["outcome"])
INLINE_FALLBACKS = Counter("cairn_inline_fallbacks_total",
                           "Uploads processed in the request because the nudge failed, by "
                           "outcome.", ["outcome"])
SWEEPS = Counter("cairn_sweeps_total", "Sweep rounds run.")
SWEEP_SECONDS = Histogram("cairn_sweep_duration_seconds", "Duration of one sweep round.",
                          buckets=_SECONDS)
CLAIMS = Counter("cairn_claims_total", "Activities leased, by trigger.", ["trigger"])
ATTEMPTS = Counter("cairn_attempts_total", "Reconcile attempts, by trigger and outcome.",
                   ["trigger", "outcome"])
DERIVE_SECONDS = Histogram("cairn_derive_duration_seconds", "Time to run one deriver.",
                           ["deriver"], buckets=_SECONDS)
RECONCILE_SECONDS = Histogram("cairn_reconcile_duration_seconds",
                              "Time to reconcile one activity, by outcome.", ["outcome"],
                              buckets=_SECONDS)
DERIVES = Counter("cairn_derives_total", "Derivers run, by deriver and result: ready, failed "
                  "(permanently: bad input), retrying (transient), crashed (a bug or an "
                  "outage, retried).", ["deriver", "result"])
