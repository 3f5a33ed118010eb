"""The list API's pages are index range scans on activity_owner_list: a deep page costs
what a first page costs, however many activities the owner and everyone else have."""

from datetime import timedelta

import pytest
from django.db import connection

from activities import listing
from activities.models import Activity
from tests.conftest import NOW
from tests.plans import explain

SIZE = 30_000


@pytest.fixture
def large_table(user, other_user):
    """SIZE activities each for two owners, one in ten undated, inserted in bulk."""
    table = Activity._meta.db_table
    with connection.cursor() as cursor:
        for owner in (user, other_user):
            upload = owner.uploads.create(sha256="0" * 64, size_bytes=1)
            cursor.execute(f"""
                INSERT INTO {table} (owner_id, upload_id, name, external_id, format, sha256,
                    file_name, size_bytes, created_at, start_time, status, error_code,
                    error_message, needs_work, generation, priority, due_at, lease_owner,
                    attempts, sport)
                SELECT %s, %s, '', '', 'fit', md5(i::text) || md5((i + 1)::text), 'x', 1,
                       %s::timestamptz - i * interval '1 minute',
                       CASE WHEN i %% 10 <> 0
                            THEN %s::timestamptz - i * interval '1 hour' END,
                       'ready', '', '', false, 1, 0, %s, '', 0,
                       CASE WHEN i %% 3 = 0 THEN 'running' ELSE 'cycling' END
                  FROM generate_series(1, %s) AS i""",
                           [owner.id, upload.id, NOW, NOW, NOW, SIZE])
        cursor.execute(f"ANALYZE {table}")



@pytest.mark.postgres_only(reason="the PostgreSQL planner's choice of index")
@pytest.mark.django_db
@pytest.mark.parametrize("params", [
    {}, {"sport": "running"}, {"status": "ready"},
    {"after": "2025-06-01T00:00:00Z", "before": "2025-12-01T00:00:00Z"},
])
def test_a_deep_page_is_an_index_range_scan_not_a_scan_or_a_sort(large_table, user, params):
    deep = Activity.objects.filter(owner=user, start_time__isnull=False).order_by(
        "start_time").first()
    query = listing.parse({"limit": "50", **params,
                           "cursor": listing.encode_cursor(deep) if not params else ""})
    plan = explain(*listing.statement(user.id, query))
    assert "activity_owner_list" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "Sort" not in plan, plan
    if not params:  # the cursor is an index condition (a seek), not a filter
        assert "Index Cond" in plan and "start_time" in plan.split("Index Cond")[1], plan


@pytest.mark.postgres_only(reason="same table as the plans above")
@pytest.mark.django_db
def test_the_pages_of_a_large_list_are_in_order_and_complete(large_table, user):
    # Keys only, not the rows: this process forks workers later in the suite, and a child
    # starts from its parent's resident size (test_hostile_input measures them).
    keys, owners, query = [], set(), listing.Query(limit=200, sport="running")
    while True:
        activities, cursor = listing.page(user.id, query)
        keys += [(listing.sort_key(a), a.id) for a in activities]
        owners |= {a.owner_id for a in activities}
        if cursor is None:
            break
        query = listing.Query(limit=200, sport="running",
                              cursor=listing.decode_cursor(cursor))
    assert keys == sorted(keys, reverse=True)
    assert len(keys) == len({i for _, i in keys}) == SIZE // 3
    assert owners == {user.id}
    # Newest: i = 30, undated (i % 10 == 0), so by its upload, 30 minutes ago; the newest
    # dated one (i = 3) started 3 hours ago.
    assert keys[0][0] == NOW - timedelta(minutes=30)


@pytest.mark.postgres_only(reason="the PostgreSQL planner's choice of index")
@pytest.mark.django_db
@pytest.mark.parametrize("page", [1, 100])
def test_the_list_page_reads_the_same_index_without_a_sort(large_table, user, rf, page,
                                                          monkeypatch):
    """The page's order is the list API's (activities.views.pages.activity_list), so it
    needs no index of its own: one fewer written by every upload. Before, its order
    (start time, nulls first) read every row of the owner and sorted them."""
    from django.core.paginator import Paginator

    from activities.views import pages

    captured = {}

    class Capture(Paginator):
        def __init__(self, object_list, *args, **kwargs):
            captured["query"] = object_list
            super().__init__(object_list, *args, **kwargs)

    monkeypatch.setattr(pages, "Paginator", Capture)
    request = rf.get("/activities/", {"page": page})
    request.user = user
    assert pages.activity_list(request).status_code == 200
    rows = captured["query"][(page - 1) * pages.PAGE_SIZE:page * pages.PAGE_SIZE]
    plan = explain(*rows.query.sql_with_params())
    assert "activity_owner_list" in plan, plan
    assert "Sort" not in plan and "Seq Scan" not in plan, plan
