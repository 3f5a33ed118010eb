"""The rows of a newly accepted activity file, written by three named statements in one
transaction, with no read before them: the inserts' conflicts are the duplicate checks.

Plain SQL that SQLite (≥ 3.35: `ON CONFLICT`, `RETURNING`) and PostgreSQL both run, so
both databases take this one path. Why three and not one: the upload and its activity
refer to each other, and only PostgreSQL can insert two rows in one statement (a
data-modifying CTE); SQLite cannot. The caller holds the transaction, and stores the
original between the first statement and the second (a refused or duplicate upload
stores nothing; the row never commits before its original is durable).
"""

from __future__ import annotations

from django.db import connection

from activities.models import Activity, Upload

# insert_upload: a file's upload, unless this owner already has a live upload of the same
# content or the same Idempotency-Key (either partial unique index: no row comes back).
INSERT_UPLOAD = """
INSERT INTO activities_upload
    (owner_id, sha256, size_bytes, original_name, idempotency_key, kind, file_name,
     created_at)
VALUES (%(owner_id)s, %(sha256)s, %(size_bytes)s, %(original_name)s, %(idempotency_key)s,
        %(kind)s, %(file_name)s, %(created_at)s)
ON CONFLICT DO NOTHING
RETURNING id
"""

# insert_activity: the activity of that upload, needing work and due now, unless this owner
# already has a live one of the same content (an archive brought it): no row comes back.
INSERT_ACTIVITY = """
INSERT INTO activities_activity
    (owner_id, upload_id, name, external_id, description, trainer, commute, user_sport,
     sport, format, sha256, file_name, size_bytes, created_at, status, error_code,
     error_message, needs_work, generation, priority, due_at, pending_since, lease_owner,
     attempts, trace_parent)
VALUES (%(owner_id)s, %(upload_id)s, %(name)s, %(external_id)s, %(description)s,
        %(trainer)s, %(commute)s, %(user_sport)s, %(sport)s, %(format)s, %(sha256)s,
        %(file_name)s, %(size_bytes)s, %(created_at)s, %(status)s, %(error_code)s,
        %(error_message)s, %(needs_work)s, %(generation)s, %(priority)s, %(due_at)s,
        %(pending_since)s, %(lease_owner)s, %(attempts)s, %(trace_parent)s)
ON CONFLICT DO NOTHING
RETURNING id
"""

# link_upload: the upload points at the owner's live activity of its content, new or not.
LINK_UPLOAD = """
UPDATE activities_upload
SET activity_id = (SELECT id FROM activities_activity
                   WHERE owner_id = %(owner_id)s AND sha256 = %(sha256)s
                     AND deleted_at IS NULL)
WHERE id = %(upload_id)s
RETURNING activity_id
"""

#: Columns of each row the statements write; the others are NULL (a test checks that
#: every column without a database default is here).
UPLOAD_COLUMNS = ("owner_id", "sha256", "size_bytes", "original_name", "idempotency_key",
                  "kind", "file_name", "created_at")
ACTIVITY_COLUMNS = (
    "owner_id", "upload_id", "name", "external_id", "description", "trainer", "commute",
    "user_sport", "sport", "format", "sha256", "file_name", "size_bytes", "created_at",
    "status", "error_code", "error_message", "needs_work", "generation", "priority",
    "due_at", "pending_since", "lease_owner", "attempts", "trace_parent")


def insert_upload(upload: Upload) -> bool:
    """Insert the (unsaved) upload and set its id; False if the owner has it already."""
    with connection.cursor() as cursor:
        cursor.execute(INSERT_UPLOAD, _params(upload, UPLOAD_COLUMNS))
        row = cursor.fetchone()
    if row is None:
        return False
    upload.id = row[0]
    return True


def insert_activity(activity: Activity) -> bool:
    """Insert the (unsaved) activity of an inserted upload, set its id and link the upload
    to it; False (and the upload linked to it) if the owner had this content already."""
    with connection.cursor() as cursor:
        cursor.execute(INSERT_ACTIVITY, _params(activity, ACTIVITY_COLUMNS))
        inserted = cursor.fetchone()
        cursor.execute(LINK_UPLOAD, {"owner_id": activity.owner_id, "sha256": activity.sha256,
                                     "upload_id": activity.upload_id})
        (activity_id,) = cursor.fetchone()
    activity.id = activity_id
    return inserted is not None


def _params(instance, columns: tuple[str, ...]) -> dict:
    """The instance's values as the database takes them (dates on SQLite as text)."""
    fields = {field.column: field for field in instance._meta.concrete_fields}
    return {column: fields[column].get_db_prep_save(getattr(instance, fields[column].attname),
                                                    connection)
            for column in columns}
