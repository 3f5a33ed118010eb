"""The activities' own metrics (per process; /metrics adds processes up)."""

from __future__ import annotations

from prometheus_client import Counter

UPLOADS = Counter("cairn_uploads_total", "Uploads answered, by result (accepted, duplicate, "
                  "refused) and error code.", ["result", "code"])
STORE_ERRORS = Counter("cairn_object_store_errors_total", "Object store requests that failed "
                       "(the store is away: uploads answer 503, work waits), by reason: "
                       "unreachable, error (it answered one), no_bucket, unconfirmed (a "
                       "write it did not confirm as sent).", ["reason"])
