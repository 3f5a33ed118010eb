"""The batched statements (work/batched.py, reconciler/derivation/batched.py): each row gets its own
values, NULLs and times survive on both databases, and a newer output is never
overwritten."""

from datetime import timedelta

import pytest

from activities.models import Activity, Derived
from core import derivers
from core.derivers import digest
from reconciler.derivation import batched
from tests.conftest import NOW
from work import batched as work_batched

pytestmark = pytest.mark.django_db


def _activities(upload, count: int) -> list[Activity]:
    return [upload().activity for _ in range(count)]


def test_update_by_id_writes_each_row_its_own_values(upload):
    first, second = _activities(upload, 2)
    first.status, first.error_code, first.due_at = Activity.Status.FAILED, "CorruptFile", NOW
    second.status, second.error_code = Activity.Status.READY, ""
    second.due_at = NOW + timedelta(hours=1)
    work_batched.update_by_id(Activity, [first, second], ["status", "error_code", "due_at"])
    stored = {a.id: (a.status, a.error_code, a.due_at) for a in Activity.objects.all()}
    assert stored == {first.id: ("failed", "CorruptFile", NOW),
                      second.id: ("ready", "", NOW + timedelta(hours=1))}


def test_update_by_id_writes_a_column_of_nulls_only(upload):
    # On PostgreSQL a VALUES column of NULLs alone is text: the cast makes it a time.
    activities = _activities(upload, 3)
    for activity in activities:
        activity.lease_token, activity.lease_expires_at, activity.pending_since = (
            None, None, None)
    work_batched.update_by_id(Activity, activities, ["lease_token", "lease_expires_at",
                                                "pending_since"])
    assert set(Activity.objects.values_list("lease_token", "lease_expires_at",
                                            "pending_since")) == {(None, None, None)}


def test_update_by_id_leaves_other_columns_and_rows_alone(upload):
    changed, untouched = _activities(upload, 2)
    name = Activity.objects.get(id=changed.id).name
    changed.status, changed.name = Activity.Status.DEAD, "not written"
    work_batched.update_by_id(Activity, [changed], ["status"])
    changed.refresh_from_db()
    assert (changed.status, changed.name) == (Activity.Status.DEAD, name)
    assert Activity.objects.get(id=untouched.id).status != Activity.Status.DEAD


def test_stored_outputs_replace_older_and_insert_new(upload):
    activity = upload().activity
    summary = derivers.BY_NAME["summary"]
    Derived.objects.create(activity=activity, deriver="summary", version=summary.version - 1,
                           status="ready", data=b"old", updated_at=NOW)
    batched.store_outputs([(activity.id, "summary", summary.version, "ready", b"new",
                            digest(b"new"), "", "", 3),
                           (activity.id, "route", 1, "failed", None, None, "NoRoute", "None.",
                            1)],
                          now=NOW)
    rows = {r.deriver: (r.version, r.status, r.data and bytes(r.data), r.error_code,
                        r.updated_at) for r in Derived.objects.filter(activity=activity)}
    assert rows == {"summary": (summary.version, "ready", b"new", "", NOW),
                    "route": (1, "failed", None, "NoRoute", NOW)}


def test_stored_outputs_never_overwrite_a_newer_version(upload):
    # Newer code (a partial deploy) wrote it: older code's output is dropped in the statement.
    activity = upload().activity
    summary = derivers.BY_NAME["summary"]
    Derived.objects.create(activity=activity, deriver="summary", version=summary.version + 1,
                           status="ready", data=b"newer", updated_at=NOW)
    batched.store_outputs([(activity.id, "summary", summary.version, "ready", b"older",
                            digest(b"older"), "", "", 3)], now=NOW + timedelta(minutes=1))
    row = Derived.objects.get(activity=activity, deriver="summary")
    assert (row.version, bytes(row.data), row.updated_at) == (summary.version + 1, b"newer", NOW)


def test_the_same_bytes_are_not_written_again(upload):
    """A rebuild to the bytes stored writes nothing at the same version, and only the
    version at a new one: the data, its updated_at and its ETag stay."""
    activity = upload().activity
    summary = derivers.BY_NAME["summary"]
    Derived.objects.create(activity=activity, deriver="summary", version=summary.version - 1,
                           status="ready", data=b"same", digest=digest(b"same"),
                           updated_at=NOW)
    tag = Derived.objects.get(activity=activity, deriver="summary").etag()
    same = [(activity.id, "summary", summary.version, "ready", b"same", digest(b"same"), "",
             "", 9)]
    assert batched.store_outputs(same, now=NOW + timedelta(minutes=1)) == 1  # the version
    row = Derived.objects.get(activity=activity, deriver="summary")
    assert (row.version, bytes(row.data), row.updated_at, row.duration_ms, row.etag()) == (
        summary.version, b"same", NOW, 0, tag)
    written = _row_version(activity.id)
    assert batched.store_outputs(same, now=NOW + timedelta(minutes=2)) == 0
    assert _row_version(activity.id) == written
    assert batched.store_outputs([(activity.id, "summary", summary.version, "ready", b"other",
                                   digest(b"other"), "", "", 9)],
                                 now=NOW + timedelta(minutes=3)) == 1
    row = Derived.objects.get(activity=activity, deriver="summary")
    assert (bytes(row.data), row.updated_at, row.duration_ms) == (
        b"other", NOW + timedelta(minutes=3), 9)
    assert row.etag() != tag


def test_an_output_without_a_digest_is_written_once_more(upload):
    """Outputs stored before digests were kept are rewritten by their next rebuild, which
    gives them one; the ETag was and stays that of the content."""
    activity = upload().activity
    summary = derivers.BY_NAME["summary"]
    Derived.objects.create(activity=activity, deriver="summary", version=summary.version,
                           status="ready", data=b"same", updated_at=NOW)
    tag = Derived.objects.get(activity=activity, deriver="summary").etag()
    batched.store_outputs([(activity.id, "summary", summary.version, "ready", b"same",
                            digest(b"same"), "", "", 4)], now=NOW + timedelta(minutes=1))
    row = Derived.objects.get(activity=activity, deriver="summary")
    assert bytes(row.digest) == digest(b"same") and row.etag() == tag


def _row_version(activity_id: int):
    """What moves whenever the summary's row is written: PostgreSQL's xmin (any new row
    version, whatever its contents); on SQLite, the row's contents."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT xmin::text FROM activities_derived WHERE activity_id = %s "
                           "AND deriver = 'summary'", [activity_id])
        else:
            cursor.execute("SELECT version, status, updated_at, duration_ms FROM "
                           "activities_derived WHERE activity_id = %s AND deriver = 'summary'",
                           [activity_id])
        return cursor.fetchone()


def test_insert_returns_each_rows_id_in_order(upload):
    from work.models import Attempt

    activities = _activities(upload, 3)
    rows = [Attempt(kind="activity", row_id=a.id, trigger="sweep", worker=f"w{n}",
                    lease_token="t" * 32, versions={"summary": n}, started_at=NOW,
                    held_until=NOW, detail={"derivers": []})
            for n, a in enumerate(activities)]
    ids = work_batched.insert(Attempt, rows)
    stored = {a.id: (a.row_id, a.worker, a.versions, a.detail["derivers"], a.ended_at)
              for a in Attempt.objects.filter(id__in=ids)}
    assert [stored[i] for i in ids] == [(a.id, f"w{n}", {"summary": n}, [], None)
                                        for n, a in enumerate(activities)]
