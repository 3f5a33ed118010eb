"""The settle's writes for a whole batch, each one statement that carries only the columns
it changes: the ORM's bulk upsert sends (and prepares in Python) every column of every
row, which was most of a backfill's database time (issue 18).

On PostgreSQL every column travels as one array parameter (unnest): the statement's text
is the same for any batch size, so psycopg converts it once and PostgreSQL keeps its
prepared plan (psycopg re-parses, in Python, every statement of over 50 parameters).
SQLite, which has neither arrays nor that cost, gets a VALUES list.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.db.models import Model

from activities.models import Derived

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

#: Set some columns of rows given by id, each row its own values, in one statement.
#: {source} names its columns c0 (the id), c1…cN (the values, in {assignments}' order).
UPDATE_BY_ID = """
UPDATE {table} SET {assignments}
  FROM {source}
 WHERE {table}.id = v.c0
"""

#: Rows per statement on SQLite: far under its 32,766 parameters.
CHUNK = 200


def _arrays(fields: Sequence) -> str:
    """unnest() of one typed array parameter per field (PostgreSQL)."""
    return "unnest(" + ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields) + ")"


def _values(width: int, count: int) -> str:
    """A VALUES list of `count` rows of `width` parameters (SQLite)."""
    return "VALUES " + ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * count)


def _columns(rows: Sequence[Sequence]) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)]


def store_outputs(rows: Sequence[tuple], *, now: datetime) -> None:
    """(activity id, deriver, version, status, data, error code, message, ms) per output,
    stored at `now` inside the caller's (fenced) transaction."""
    if not rows:
        return
    updated_at = Derived._meta.get_field("updated_at").get_db_prep_save(now, connection)
    if connection.vendor == "postgresql":
        fields = [Derived._meta.get_field(name) for name in OUTPUT_COLUMNS]
        sql = UPSERT_OUTPUTS.format(source=f"SELECT v.*, %s FROM {_arrays(fields)} AS v")
        _execute(sql, [updated_at, *_columns(rows)])
        return
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        sql = UPSERT_OUTPUTS.format(source=_values(len(OUTPUT_COLUMNS) + 1, len(chunk)))
        _execute(sql, [value for row in chunk for value in (*row, updated_at)])


def update_by_id(model: type[Model], rows: Sequence[Model], fields: Sequence[str]) -> None:
    """Write `fields` of each of `rows` (model instances with their id) in one statement
    (a few on SQLite), values prepared as the ORM would."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    columns = [model._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{connection.ops.quote_name(field.column)} = v.c{n}"
                            for n, field in enumerate(columns, start=1))
    values = [(row.pk, *(field.get_db_prep_save(getattr(row, field.attname), connection)
                         for field in columns)) for row in rows]
    if connection.vendor == "postgresql":
        names = ", ".join(f"c{n}" for n in range(len(columns) + 1))
        source = f"{_arrays([model._meta.pk, *columns])} AS v({names})"
        _execute(UPDATE_BY_ID.format(table=table, assignments=assignments, source=source),
                 _columns(values))
        return
    for start in range(0, len(values), CHUNK):
        chunk = values[start:start + CHUNK]
        # SQLite names a VALUES list's columns column1…N: renamed to c0…cN-1.
        names = ", ".join(f"column{n + 1} AS c{n}" for n in range(len(columns) + 1))
        source = f"(SELECT {names} FROM ({_values(len(columns) + 1, len(chunk))})) AS v"
        _execute(UPDATE_BY_ID.format(table=table, assignments=assignments, source=source),
                 [value for row in chunk for value in row])


def insert(model: type[Model], rows: Sequence[Model]) -> list[int]:
    """Insert `rows` (new model instances) in one statement; their ids, in order. On
    SQLite, the ORM's bulk_create (a VALUES list is what it sends there too)."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return [row.pk for row in model.objects.bulk_create(rows)]
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.pk]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    values = [[f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
              for row in rows]
    # A set-returning function's rows are inserted, and returned, in its order (the same
    # order a VALUES list keeps, which Django's bulk_create relies on).
    sql = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({columns}) "
           f"SELECT * FROM {_arrays(fields)} RETURNING id")
    with connection.cursor() as cursor:
        cursor.execute(sql, _columns(values))
        return [row[0] for row in cursor.fetchall()]


def _execute(sql: str, params: list) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
