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
#: An output whose digest, version, status and error are those stored is not written at
#: all (a re-sync that changes nothing writes nothing); one whose bytes are the same at a
#: new version keeps its stored data and updated_at (PostgreSQL then writes no TOAST).
#: {source} gives one row per output, in OUTPUT_COLUMNS order, then updated_at.
UPSERT_OUTPUTS = """
INSERT INTO activities_derived (activity_id, deriver, version, status, data, digest,
                                error_code, error_message, duration_ms, updated_at)
{source}
ON CONFLICT (activity_id, deriver) DO UPDATE
   SET version = excluded.version, status = excluded.status,
       data = CASE WHEN activities_derived.digest = excluded.digest
                   THEN activities_derived.data ELSE excluded.data END,
       digest = excluded.digest, error_code = excluded.error_code,
       error_message = excluded.error_message,
       duration_ms = CASE WHEN activities_derived.digest = excluded.digest
                          THEN activities_derived.duration_ms ELSE excluded.duration_ms END,
       updated_at = CASE WHEN activities_derived.digest = excluded.digest
                         THEN activities_derived.updated_at ELSE excluded.updated_at END
 WHERE activities_derived.version <= excluded.version
   AND (activities_derived.version <> excluded.version
        OR activities_derived.status <> excluded.status
        OR activities_derived.digest IS NULL OR excluded.digest IS NULL
        OR activities_derived.digest <> excluded.digest
        OR activities_derived.error_code <> excluded.error_code
        OR activities_derived.error_message <> excluded.error_message)
"""
OUTPUT_COLUMNS = ("activity", "deriver", "version", "status", "data", "digest", "error_code",
                  "error_message", "duration_ms")


def store_outputs(rows: Sequence[tuple], *, now: datetime) -> int:
    """(activity id, deriver, version, status, data, digest, error code, message, ms) per
    output, stored at `now` inside the caller's (fenced) transaction; the number of rows
    written (an output stored already, the same bytes at the same version, is not)."""
    if not rows:
        return 0
    updated_at = Derived._meta.get_field("updated_at").get_db_prep_save(now, connection)
    if connection.vendor == "postgresql":
        fields = [Derived._meta.get_field(name) for name in OUTPUT_COLUMNS]
        sql = UPSERT_OUTPUTS.format(source=f"SELECT v.*, %s FROM {arrays(fields)} AS v")
        return execute(sql, [updated_at, *columns(rows)])
    written = 0
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        sql = UPSERT_OUTPUTS.format(source=values(len(OUTPUT_COLUMNS) + 1, len(chunk)))
        written += execute(sql, [value for row in chunk for value in (*row, updated_at)])
    return written
