"""The kernel's metrics, one series per kind (per process; /metrics adds processes up)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

WORK_ATTEMPTS = Counter("cairn_work_attempts_total", "Attempts of reconciled work ended, by "
                        "kind and outcome.", ["kind", "outcome"])
WORK_CRASHES = Counter("cairn_work_crashes_total", "Runs of one row's work that raised (the "
                       "row is retried; the sweep goes on), by kind.", ["kind"])
EXPIRED_LEASES = Counter("cairn_expired_leases_total", "Expired leases found (their worker "
                         "stopped before finishing), by what became of the row: reclaimed "
                         "or dead.", ["outcome"])

#: From seconds (a fresh upload's promise is kept within 5 s) to a day (a backfill's row).
_DUE_TO_DONE_S = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 21600, 86400)

WORK_DUE_TO_DONE = Histogram("cairn_work_due_to_done_seconds", "Time from when a row started "
                             "needing work (pending_since) to when it needed none, by kind, "
                             "priority (fresh, backfill) and how it ended (converged, "
                             "failed, dead).", ["kind", "priority", "outcome"],
                             buckets=_DUE_TO_DONE_S)
