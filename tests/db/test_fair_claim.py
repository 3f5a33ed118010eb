"""The claim shared among owners (reconciler.derivation.kind.CLAIM_DUE): within a priority, one
user's backlog never makes another user's fresh upload wait behind it, fresh still goes
before backfill, and owners are served in turn when more of them have work than a batch
holds. PostgreSQL runs the loose index scan, SQLite its round-robin twin: both are held
to the same behaviour here."""

from datetime import timedelta

import pytest
from django.db import connection

from activities.models import Activity
from reconciler.derivation import kind as activity_kind
from tests.conftest import NOW
from tests.plans import explain
from work import kinds
from work import leases as work_leases

pytestmark = pytest.mark.django_db

FRESH, BACKFILL = Activity.Priority.FRESH, Activity.Priority.BACKFILL


def people(django_user_model, n: int) -> list:
    return [django_user_model.objects.create_user(f"owner{i}", password="x") for i in range(n)]


def pending(owner, n: int, *, since, priority=FRESH, **fields) -> list[int]:
    """n activities of `owner` that need work, waiting since `since` (one a second)."""
    upload = owner.uploads.create(sha256=f"{owner.id:064x}", size_bytes=1)
    fields.setdefault("due_at", since)
    made = Activity.objects.bulk_create(
        Activity(owner=owner, upload=upload, format="fit", sha256=f"{owner.id}-{i}-{since}",
                 file_name="x", size_bytes=1, needs_work=True, priority=priority,
                 pending_since=since + timedelta(seconds=i), **fields)
        for i in range(n))
    return [a.id for a in made]


def claimed(limit=10, now=NOW) -> list[int]:
    return [c.row_id for c in activity_kind.claim(limit=limit, now=now, owner="w-1")]


def fair_due() -> tuple[str, dict]:
    """The activity kind's claim for this database, and its parameters."""
    statements = activity_kind.KIND.statements
    due = statements.due if connection.vendor == "postgresql" else statements.due_sqlite
    return due, activity_kind.KIND.params()


def test_a_backlog_never_makes_another_owner_wait(django_user_model):
    a, b = people(django_user_model, 2)
    backlog = pending(a, 200, since=NOW - timedelta(hours=1))
    upload = pending(b, 1, since=NOW - timedelta(seconds=1))
    first = claimed()
    # Oldest first would have taken ten of the backlog and left b behind all 200.
    assert upload[0] in first
    # The rest of the batch is a's oldest.
    assert set(first) - set(upload) == set(backlog[:9])


def test_one_owner_alone_gets_whole_batches_oldest_first(django_user_model):
    (a,) = people(django_user_model, 1)
    backlog = pending(a, 25, since=NOW - timedelta(hours=1))
    assert claimed() == backlog[:10]
    assert claimed() == backlog[10:20]


def test_fresh_before_backfill_whoever_owns_it(django_user_model):
    a, b = people(django_user_model, 2)
    backfill = pending(a, 50, since=NOW - timedelta(days=1), priority=BACKFILL)
    fresh = pending(b, 30, since=NOW - timedelta(seconds=30))
    assert set(claimed()) <= set(fresh)
    assert set(claimed()) <= set(fresh)
    assert set(claimed()) <= set(fresh)
    assert set(claimed()) <= set(backfill)  # the fresh ones are all leased now


def test_owners_take_turns_when_more_have_work_than_a_batch_holds(django_user_model):
    owners = people(django_user_model, 7)
    rows = {o.id: pending(o, 5, since=NOW - timedelta(minutes=5)) for o in owners}
    of = {row: owner for owner, ids in rows.items() for row in ids}
    served = []
    for _ in range(7):
        batch = claimed(limit=3)
        assert len(batch) == 3
        assert len({of[row] for row in batch}) == 3  # three owners, one row each
        served += [of[row] for row in batch]
    # 21 rows to 7 owners in turn: three each, none left behind.
    assert sorted(served.count(o.id) for o in owners) == [3] * 7


def test_the_cursor_follows_the_last_owner_served():
    assert work_leases.next_after(0, []) == 0
    assert work_leases.next_after(5, [7, 9, 8]) == 9
    # Wrapped round: those from the start came last.
    assert work_leases.next_after(5, [7, 9, 2, 3]) == 3
    assert work_leases.next_after(5, [5]) == 5


def test_a_kind_of_the_kernel_shares_its_rows_among_owners(django_user_model):
    """The statement as a kind registers it (the activities' kind): the kernel passes its
    cursor and moves it with the owners the statement returns."""
    statement, params = fair_due()  # this database's
    kind = kinds.Kind(
        name="fairprobe", label="fair probes", model=Activity, doing="probing",
        statements=kinds.Statements(due=statement), params=lambda: params,
        max_attempts=lambda: 5, backoff=lambda: (1.0, 10.0), error_fields=lambda c, m: {})
    a, b = people(django_user_model, 2)
    backlog = pending(a, 50, since=NOW - timedelta(hours=1))
    upload = pending(b, 1, since=NOW - timedelta(seconds=1))
    taken = work_leases.claim(kind, limit=10, now=NOW, owner="w-1", trigger="sweep")
    first = {lease.row_id for lease in taken}
    assert upload[0] in first
    assert {lease.attempts for lease in taken} == {1}
    # The batch is full: a's shares fill what b had no rows for.
    assert len(taken) == 10
    assert work_leases.CURSORS["fairprobe"] in {a.id, b.id}
    # Only a's rows are left: whole batches of them, oldest first.
    taken = work_leases.claim(kind, limit=10, now=NOW, owner="w-1", trigger="sweep")
    assert [lease.row_id for lease in taken] == [i for i in backlog if i not in first][:10]


def test_rows_not_due_leased_or_deleted_are_not_taken(django_user_model):
    a, b, c = people(django_user_model, 3)
    pending(a, 3, since=NOW + timedelta(minutes=5))  # backing off
    held = NOW + timedelta(minutes=1)
    pending(b, 3, since=NOW - timedelta(minutes=5), lease_token="t" * 32,
            lease_expires_at=held, due_at=held)
    pending(c, 3, since=NOW - timedelta(minutes=5), deleted_at=NOW)
    assert claimed() == []


@pytest.mark.postgres_only(reason="the PostgreSQL planner's choice of index")
def test_the_fair_claim_probes_its_index_never_scans(django_user_model):
    a, b = people(django_user_model, 2)
    table = Activity._meta.db_table
    upload = a.uploads.create(sha256="0" * 64, size_bytes=1)
    with connection.cursor() as cursor:
        cursor.execute(f"""
            INSERT INTO {table} (owner_id, upload_id, name, external_id, format, sha256,
                file_name, size_bytes, created_at, status, error_code, error_message,
                needs_work, generation, priority, due_at, pending_since, lease_owner, attempts)
            SELECT %s, %s, '', '', 'fit', md5(i::text), 'x', 1, %s, 'ready', '', '',
                   i <= 50, 1, 0, %s, CASE WHEN i <= 50 THEN %s::timestamptz END, '', 0
              FROM generate_series(1, 50000) AS i""", [a.id, upload.id, NOW, NOW, NOW])
        cursor.execute(f"ANALYZE {table}")
    statement, params = fair_due()
    plan = explain(statement, {**params, "token": "t", "owner": "w", "expires": NOW,
                               "now": NOW, "limit": 10, "after": 0})
    assert "activity_fair" in plan, plan
    assert "Seq Scan on activities_activity" not in plan, plan
