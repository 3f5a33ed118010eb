"""Millions of processed activities for the sweep benchmark, built inside PostgreSQL.

Each activity has its own upload and every deriver's output current (core.derivers.ALL),
as a deployment that has processed them all has; a hundred activities a user, each user
with a current book of records (else the sweep would build them). The rows are made by
INSERT … SELECT over generate_series (nothing crosses the wire), with the tables' secondary indexes
dropped and foreign-key triggers off (`session_replication_role = replica`: the rows are
consistent by construction), then the indexes rebuilt from their own definitions, the
sequences moved past the ids used, and everything analysed. At 10,000,000 activities
that is 10 M uploads, 10 M activities and 80 M derived rows (BENCHMARKS.md, b).
"""

from __future__ import annotations

import time

import psycopg

from bench.harness import Site

#: The tables filled, and what their indexes are rebuilt from.
TABLES = ("auth_user", "records_book", "activities_upload", "activities_activity",
          "activities_derived")
PER_USER = 100

#: Named statements; %(size)s activities, ids 1..size, upload i gave activity i, of user
#: %(first)s + i % %(users)s (after the bench user, who owns none).
USERS = """
INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email,
                       is_staff, is_active, date_joined)
SELECT %(first)s + u, '!', false, 'user' || u, '', '', '', false, true, now()
  FROM generate_series(0, %(users)s - 1) AS u
"""
BOOKS = """
INSERT INTO records_book (user_id, needs_work, generation, priority, due_at, lease_owner,
                          attempts, version, status, error_code, error_message, built_at,
                          whole)
SELECT %(first)s + u, false, 1, 0, now(), '', 0, %(records)s, 'ready', '', '', now(), true
  FROM generate_series(0, %(users)s - 1) AS u
"""
UPLOADS = """
INSERT INTO activities_upload (id, owner_id, sha256, size_bytes, original_name, kind,
                               activity_id, file_name, created_at)
SELECT i, %(first)s + i %% %(users)s, md5(i::text) || md5((-i)::text), 50000, 'ride.fit',
       'file', i, '', now() - make_interval(mins => i)
  FROM generate_series(1, %(size)s) AS i
"""
ACTIVITIES = """
INSERT INTO activities_activity (id, owner_id, upload_id, name, external_id, format, sha256,
       file_name, size_bytes, created_at, start_time, status, error_code, error_message,
       needs_work, generation, priority, due_at, lease_owner, attempts, processed_at)
SELECT i, %(first)s + i %% %(users)s, i, '', '', 'fit', md5(i::text) || md5((-i)::text),
       'originals/' || i || '.fit', 50000, now() - make_interval(mins => i),
       now() - make_interval(mins => i), 'ready', '', '', false, 1, 0,
       now() - make_interval(mins => i), '', 1, now() - make_interval(mins => i)
  FROM generate_series(1, %(size)s) AS i
"""
DERIVED = """
INSERT INTO activities_derived (activity_id, deriver, version, status, data, error_code,
                                error_message, duration_ms, updated_at)
SELECT i, %(deriver)s, %(version)s, 'ready', NULL, '', '', 3, now()
  FROM generate_series(1, %(size)s) AS i
"""
ROLLOUT = """
INSERT INTO reconciler_rollout (deriver, version, state, keep_previous, cursor, flagged,
                                window_count, started_at, finished_at)
VALUES (%(deriver)s, %(version)s, 'finished', false, %(size)s, 0, 0, now(), now())
"""
#: The secondary indexes of the tables, and the constraints they back (not primary keys).
INDEXES = """
SELECT c.relname, pg_get_indexdef(i.indexrelid), con.conname, con.conrelid::regclass::text,
       pg_get_constraintdef(con.oid)
  FROM pg_index AS i
  JOIN pg_class AS c ON c.oid = i.indexrelid
  LEFT JOIN pg_constraint AS con ON con.conindid = i.indexrelid AND con.contype = 'u'
 WHERE i.indrelid = ANY(%(tables)s::regclass[]) AND NOT i.indisprimary
"""


def fill(site: Site, size: int) -> dict[str, float]:
    """`size` activities as above in `site`'s database; returns seconds spent inserting,
    indexing and analysing, and the database's size in GB."""
    from core import derivers
    from records import rebuild

    seconds: dict[str, float] = {}
    with psycopg.connect(site.url, autocommit=True) as conn:
        first = conn.execute("SELECT max(id) + 1 FROM auth_user").fetchone()[0]
        people = {"first": first, "users": max(1, size // PER_USER), "size": size,
                  "records": rebuild.VERSION}
        conn.execute("SET maintenance_work_mem = '1GB'")
        conn.execute("SET session_replication_role = replica")  # no foreign-key triggers
        indexes = conn.execute(INDEXES, {"tables": list(TABLES)}).fetchall()
        for index, _, constraint, table, _ in indexes:
            conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{constraint}"' if constraint
                         else f'DROP INDEX "{index}"')
        started = time.monotonic()
        for statement in (USERS, BOOKS, UPLOADS, ACTIVITIES):
            conn.execute(statement, people)
        for deriver in derivers.ALL:
            params = {"deriver": deriver.name, "version": deriver.version, "size": size}
            conn.execute(DERIVED, params)
            conn.execute(ROLLOUT, params)
        seconds["insert"] = time.monotonic() - started
        started = time.monotonic()
        for _, definition, constraint, table, constraint_definition in indexes:
            conn.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{constraint}" '
                         f"{constraint_definition}" if constraint else definition)
        for table in TABLES:
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                         f"(SELECT max(id) FROM {table}))")
        seconds["index"] = time.monotonic() - started
        started = time.monotonic()
        conn.execute("VACUUM ANALYZE")
        seconds["analyse"] = time.monotonic() - started
        seconds["gb"] = float(conn.execute(
            "SELECT pg_database_size(current_database()) / 1e9").fetchone()[0])
    return seconds
