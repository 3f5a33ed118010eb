"""The kernel's metrics, one series per kind (per process; /metrics adds processes up)."""

from __future__ import annotations

from prometheus_client import Counter

WORK_ATTEMPTS = Counter("cairn_work_attempts_total", "Attempts of reconciled work ended, by "
                        "kind and outcome.", ["kind", "outcome"])
WORK_CRASHES = Counter("cairn_work_crashes_total", "Runs of one row's work that raised (the "
                       "row is retried; the sweep goes on), by kind.", ["kind"])
EXPIRED_LEASES = Counter("cairn_expired_leases_total", "Expired leases found (their worker "
                         "stopped before finishing), by what became of the row: reclaimed "
                         "or dead.", ["outcome"])
