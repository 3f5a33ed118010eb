"""The claim and drift queries cost what the drift costs, not what the table holds."""

import pytest
from django.db import connection

from activities.models import Activity
from tests.conftest import NOW
from tests.plans import explain

SIZE = 50_000


@pytest.fixture
def large_table(user):
    """SIZE processed activities and 5 pending ones, inserted in bulk."""
    table = Activity._meta.db_table
    upload = user.uploads.create(sha256="0" * 64, size_bytes=1)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {table} (owner_id, upload_id, name, external_id, format, sha256,
                file_name, size_bytes, created_at, status, error_code, error_message,
                needs_work, generation, priority, due_at, pending_since, lease_owner, attempts)
            SELECT %s, %s, '', '', 'fit', md5(i::text) || md5((i + 1)::text), 'x', 1, %s,
                   CASE WHEN i <= 5 THEN 'queued' ELSE 'ready' END, '', '',
                   i <= 5, 1, 0, %s, CASE WHEN i <= 5 THEN %s::timestamptz END, '', 0
              FROM generate_series(1, %s) AS i""",
                       [user.id, upload.id, NOW, NOW, NOW, SIZE])
        cursor.execute(f"ANALYZE {table}")



@pytest.mark.postgres_only(reason="the PostgreSQL planner's choice of index")
@pytest.mark.django_db
def test_claim_subquery_uses_the_partial_index_not_a_scan(large_table):
    table = Activity._meta.db_table
    plan = explain(f"SELECT id FROM {table} WHERE needs_work AND due_at <= %s "
                 "ORDER BY priority, pending_since LIMIT 10 FOR UPDATE SKIP LOCKED", [NOW])
    assert "activity_pending" in plan, plan
    assert "Seq Scan" not in plan, plan


@pytest.mark.postgres_only(reason="the PostgreSQL planner's choice of index")
@pytest.mark.django_db
def test_drift_pending_counts_use_the_partial_index(large_table):
    from reconciler import drift

    sql, params = drift.pending().values("id").query.sql_with_params()
    plan = explain(sql, list(params))
    assert "activity_pending" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert drift.count(now=NOW)["pending"] == 5


@pytest.mark.postgres_only(reason="the PostgreSQL planner's choice of index")
@pytest.mark.django_db
def test_the_orphans_step_of_a_claim_uses_the_small_leased_index(large_table):
    table = Activity._meta.db_table
    plan = explain(f"SELECT id FROM {table} AS a WHERE needs_work AND due_at <= %s AND "
                 "a.lease_token IS NOT NULL ORDER BY priority, pending_since LIMIT 10 "
                 "FOR UPDATE SKIP LOCKED", [NOW])
    assert "activity_leased" in plan, plan
    assert "Seq Scan" not in plan, plan
