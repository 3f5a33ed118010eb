"""Query plans, for tests that hold a query to its index (PostgreSQL)."""

from django.db import connection


def explain(sql: str, params) -> str:
    """PostgreSQL's plan for the statement, as text."""
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())
