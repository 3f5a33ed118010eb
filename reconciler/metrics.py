"""Prometheus counters and histograms (served at /metrics)."""

from prometheus_client import Counter

NUDGES = Counter("cairn_nudges_total", "Nudges sent to the task queue, by outcome.",
                 ["outcome"])
UPLOADS = Counter("cairn_uploads_total", "Uploads answered, by result.", ["result"])
INLINE_FALLBACKS = Counter("cairn_inline_fallbacks_total",
                           "Uploads processed in the request because the nudge failed, by "
                           "outcome.", ["outcome"])
