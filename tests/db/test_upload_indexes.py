"""The indexes a new upload writes. PostgreSQL enters a row in an index without a
predicate (NULLs too) and in a partial one when the row meets its predicate; each entry is
paid by every upload (BENCHMARKS.md, the acknowledgement), so the lists below say which
are meant. An index that serves something a fresh upload does not have (a gear, a link, a
lease, a deletion) is partial on it."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from activities.models import Activity, Upload
from tests import factories

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.postgres_only(reason="PostgreSQL's catalogue of index predicates")]

ACTIVITY_INDEXES = {
    "activities_activity_pkey",
    "activities_activity_owner_id_44d8a0b4",  # the owner's rows, whatever their state
    "activities_activity_upload_id_79fb137b",
    "activity_owner_sha256_live",  # the duplicate check
    "activity_owner_list",  # the list
    "activity_pending",  # the claim
    "activity_fair",  # the claim shared among owners
    "activity_file",  # whether an original is referred to
}
UPLOAD_INDEXES = {
    "activities_upload_pkey",
    "activities_upload_activity_id_2f207eab",
    "upload_owner_recent",
    "upload_owner_sha256_live",
}

# table_indexes: each index of a table with its predicate (NULL: every row is entered).
TABLE_INDEXES = """
SELECT indexrelid::regclass::text AS name, pg_get_expr(indpred, indrelid) AS predicate
  FROM pg_index
 WHERE indrelid = %(table)s::regclass
"""


def entered(table: str, row_id: int) -> set[str]:
    """The indexes of `table` that hold the row `row_id`."""
    names = set()
    with connection.cursor() as cursor:
        cursor.execute(TABLE_INDEXES, {"table": table})
        for name, predicate in cursor.fetchall():
            if predicate is None:
                names.add(name)
                continue
            # The predicate is PostgreSQL's own text of an index on this table.
            cursor.execute(f"SELECT ({predicate}) FROM {table} WHERE id = %(id)s",
                           {"id": row_id})
            (holds,) = cursor.fetchone()
            if holds:
                names.add(name)
    return names


def test_a_new_upload_enters_only_the_indexes_it_is_meant_to(api):
    response = api.post("/api/v1/uploads",
                        {"file": SimpleUploadedFile("ride.fit", factories.fit(seed=3))})
    assert response.status_code == 202, response.content
    activity = Activity.objects.get(id=response.json()["activity_id"])
    assert activity.needs_work and activity.lease_token is None  # as fresh as it comes

    assert entered(Activity._meta.db_table, activity.id) == ACTIVITY_INDEXES
    assert entered(Upload._meta.db_table, activity.upload_id) == UPLOAD_INDEXES


def test_the_links_a_fresh_upload_lacks_are_still_found_through_their_indexes():
    """The partial indexes serve the reads by gear, link and duplicate: each is in the
    plan of the lookup it was made for (a lookup by a value implies it is not NULL)."""
    from tests.plans import explain

    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    try:
        for column, value, index in (("gear_id", 1, "activity_gear"),
                                     ("split_from_id", 1, "activity_split_from"),
                                     ("duplicate_of_id", 1, "activity_duplicate_of"),
                                     ("share_id", "x", "activity_share_id")):
            plan = explain(f"SELECT id FROM activities_activity WHERE {column} = %(value)s",
                           {"value": value})
            assert index in plan, plan
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET enable_seqscan")

