"""Writes of a whole batch, each one statement that carries only the columns it changes:
the ORM's bulk update and upsert send (and prepare in Python) every column of every row,
which was most of a backfill's database time.

On PostgreSQL every column travels as one array parameter (unnest): the statement's text
is the same for any batch size, so psycopg converts it once and PostgreSQL keeps its
prepared plan (psycopg re-parses, in Python, every statement of over 50 parameters).
SQLite, which has neither arrays nor that cost, gets a VALUES list.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

#: Set some columns of rows given by id, each row its own values, in one statement.
#: {source} names its columns c0 (the id), c1…cN (the values, in {assignments}' order).
UPDATE_BY_ID = """
UPDATE {table} SET {assignments}
  FROM {source}
 WHERE {table}.id = v.c0
"""

#: Rows per statement on SQLite: far under its 32,766 parameters.
CHUNK = 200


def arrays(fields: Sequence) -> str:
    """unnest() of one typed array parameter per field (PostgreSQL)."""
    return "unnest(" + ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields) + ")"


def values(width: int, count: int) -> str:
    """A VALUES list of `count` rows of `width` parameters (SQLite)."""
    return "VALUES " + ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * count)


def columns(rows: Sequence[Sequence]) -> list[list]:
    return [list(column) for column in zip(*rows, strict=True)]


def update_by_id(model: type[Model], rows: Sequence[Model], fields: Sequence[str]) -> None:
    """Write `fields` of each of `rows` (model instances with their id) in one statement
    (a few on SQLite), values prepared as the ORM would."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    written = [model._meta.get_field(name) for name in fields]
    assignments = ", ".join(f"{connection.ops.quote_name(field.column)} = v.c{n}"
                            for n, field in enumerate(written, start=1))
    prepared = [(row.pk, *(field.get_db_prep_save(getattr(row, field.attname), connection)
                           for field in written)) for row in rows]
    if connection.vendor == "postgresql":
        names = ", ".join(f"c{n}" for n in range(len(written) + 1))
        source = f"{arrays([model._meta.pk, *written])} AS v({names})"
        execute(UPDATE_BY_ID.format(table=table, assignments=assignments, source=source),
                columns(prepared))
        return
    for start in range(0, len(prepared), CHUNK):
        chunk = prepared[start:start + CHUNK]
        # SQLite names a VALUES list's columns column1…N: renamed to c0…cN-1.
        names = ", ".join(f"column{n + 1} AS c{n}" for n in range(len(written) + 1))
        source = f"(SELECT {names} FROM ({values(len(written) + 1, len(chunk))})) AS v"
        execute(UPDATE_BY_ID.format(table=table, assignments=assignments, source=source),
                [value for row in chunk for value in row])


def insert(model: type[Model], rows: Sequence[Model]) -> list[int]:
    """Insert `rows` (new model instances) in one statement; their ids, in order. On
    SQLite, the ORM's bulk_create (a VALUES list is what it sends there too)."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        return [row.pk for row in model.objects.bulk_create(rows)]
    fields = [f for f in model._meta.concrete_fields if f is not model._meta.pk]
    names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    prepared = [[f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in fields]
                for row in rows]
    # A set-returning function's rows are inserted, and returned, in its order (the same
    # order a VALUES list keeps, which Django's bulk_create relies on).
    sql = (f"INSERT INTO {connection.ops.quote_name(model._meta.db_table)} ({names}) "
           f"SELECT * FROM {arrays(fields)} RETURNING id")
    with connection.cursor() as cursor:
        cursor.execute(sql, columns(prepared))
        return [row[0] for row in cursor.fetchall()]


def execute(sql: str, params: list) -> int:
    """Run one statement; the number of rows it wrote (an upsert's skipped rows are not)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
