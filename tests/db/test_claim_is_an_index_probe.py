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
    from reconciler.operations import drift

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


@pytest.fixture
def derived_for_all(large_table):
    """Every deriver's output of every activity of large_table, at the code's version."""
    from activities.models import Derived
    from core import derivers

    with connection.cursor() as cursor:
        for deriver in derivers.ALL:
            cursor.execute(f"""
                INSERT INTO {Derived._meta.db_table} (activity_id, deriver, version, status,
                    error_code, error_message, duration_ms, updated_at)
                SELECT id, %s, %s, 'ready', '', '', 0, %s FROM {Activity._meta.db_table}""",
                           [deriver.name, deriver.version, NOW])
        cursor.execute(f"ANALYZE {Derived._meta.db_table}")


@pytest.mark.postgres_only(reason="the PostgreSQL planner's choice of index")
@pytest.mark.django_db
def test_the_look_for_stragglers_probes_the_version_index(derived_for_all):
    """Derivers sit at different versions: without statistics on the pair, "deriver =
    'track' AND version < 4" looks like a ninth of the table, which is then read whole."""
    from core import derivers
    from reconciler.rollouts import advance as rollouts

    for deriver in derivers.ALL:
        query = rollouts._old(deriver).filter(activity__needs_work=False)
        sql, params = query.values("activity_id").query.sql_with_params()
        plan = explain(sql + " LIMIT 1000", list(params))
        assert "derived_by_version" in plan, plan
        assert "Seq Scan" not in plan, plan
        sql, params = rollouts._old(deriver).values("id").query.sql_with_params()
        plan = explain(sql + " LIMIT 1", list(params))
        assert "Seq Scan" not in plan, plan


@pytest.mark.postgres_only(reason="the PostgreSQL planner's choice of index")
@pytest.mark.django_db
def test_the_end_of_a_rollout_pass_probes_the_pending_index(large_table):
    from reconciler.rollouts import advance as rollouts

    query = Activity.objects.filter(needs_work=True, priority=Activity.Priority.BACKFILL)
    sql, params = query.values("id").query.sql_with_params()
    plan = explain(sql + " LIMIT 1", list(params))
    assert "activity_pending" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert rollouts._backfill_pending() is False
