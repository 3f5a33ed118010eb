"""The settle's batched write of derived outputs: one statement that carries only the
columns it changes (work.batched has the general statements and why they are built so)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection

from activities.models import Derived
from work.batched import CHUNK, arrays, columns, execute, values

#: Store a batch's outputs: new ones inserted, older ones replaced, a newer one (written
#: by newer code in a partial deploy) never overwritten: the guard is in the statement.
#: {source} gives one row per output, in OUTPUT_COLUMNS order, then updated_at.
UPSERT_OUTPUTS = """
INSERT INTO activities_derived (activity_id, deriver, version, status, data, error_code,
                                error_message, duration_ms, updated_at)
{source}
ON CONFLICT (activity_id, deriver) DO UPDATE
   SET version = excluded.version, status = excluded.status, data = excluded.data,
       error_code = excluded.error_code, error_message = excluded.error_message,
       duration_ms = excluded.duration_ms, updated_at = excluded.updated_at
 WHERE activities_derived.version <= excluded.version
"""
OUTPUT_COLUMNS = ("activity", "deriver", "version", "status", "data", "error_code",
                  "error_message", "duration_ms")


def store_outputs(rows: Sequence[tuple], *, now: datetime) -> None:
    """(activity id, deriver, version, status, data, error code, message, ms) per output,
    stored at `now` inside the caller's (fenced) transaction."""
    if not rows:
        return
    updated_at = Derived._meta.get_field("updated_at").get_db_prep_save(now, connection)
    if connection.vendor == "postgresql":
        fields = [Derived._meta.get_field(name) for name in OUTPUT_COLUMNS]
        sql = UPSERT_OUTPUTS.format(source=f"SELECT v.*, %s FROM {arrays(fields)} AS v")
        execute(sql, [updated_at, *columns(rows)])
        return
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        sql = UPSERT_OUTPUTS.format(source=values(len(OUTPUT_COLUMNS) + 1, len(chunk)))
        execute(sql, [value for row in chunk for value in (*row, updated_at)])
