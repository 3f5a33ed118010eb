"""The activities' own metrics (per process; /metrics adds processes up)."""

from __future__ import annotations

from prometheus_client import Counter

UPLOADS = Counter("cairn_uploads_total", "Uploads answered, by result (accepted, duplicate, "
                  "refused) and error code.", ["result", "code"])
