"""The rows of a newly accepted activity file: on PostgreSQL in autocommit (a request) one
named statement (a data-modifying CTE), else three in one transaction; no read before
them either way: the inserts' conflicts are the duplicate checks.

Why two shapes: the upload and its activity refer to each other, and only PostgreSQL can
insert two rows in one statement. There, both ids are drawn first, so each row is
inserted already pointing at the other; the foreign keys are checked at commit, which in
autocommit is the end of the statement: one round trip, no transaction to open or close,
row locks held only while it runs, nothing read (inside a caller's transaction the keys
would be checked only at its commit: the three statements then). The caller stores the
original before either (ingest._insert): a row never commits before its original is
durable, and a file stored for an upload that turned out a duplicate is the same bytes
under the same name (the orphan sweep removes a file no row came to refer to, after
storage.ORPHAN_GRACE).
"""

from __future__ import annotations

from django.db import IntegrityError, connection, transaction

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


# accept: the upload and its activity in one statement (PostgreSQL). The upload is
# inserted unless this owner already has a live upload of the same content or the same
# Idempotency-Key (then no row comes back); its activity is new, needing work and due now,
# with the id the upload points at. Returns the upload's id, the activity it points at,
# and whether that activity is new. If the owner has a live activity of this content
# without its upload (an archive brought it), the activity's insert meets it and does
# nothing, and the upload's key to the id that never came to be fails the statement:
# accept_existing runs instead. The common path reads nothing.
_ACCEPT = """
WITH ids AS (
    SELECT nextval(pg_get_serial_sequence('activities_upload', 'id')) AS upload_id,
           {activity_id} AS activity_id
), upload AS (
    INSERT INTO activities_upload
        (id, activity_id, owner_id, sha256, size_bytes, original_name, idempotency_key,
         kind, file_name, created_at)
    SELECT upload_id, activity_id, %(owner_id)s, %(sha256)s, %(size_bytes)s,
           %(original_name)s, %(idempotency_key)s, %(kind)s, %(upload_file_name)s,
           %(created_at)s
      FROM ids
    ON CONFLICT DO NOTHING
    RETURNING id, activity_id
), activity AS (
    INSERT INTO activities_activity
        (id, upload_id, owner_id, name, external_id, description, trainer, commute,
         user_sport, sport, format, sha256, file_name, size_bytes, created_at, status,
         error_code, error_message, needs_work, generation, priority, due_at,
         pending_since, lease_owner, attempts, trace_parent)
    SELECT upload.activity_id, upload.id, %(owner_id)s, %(name)s, %(external_id)s,
           %(description)s, %(trainer)s, %(commute)s, %(user_sport)s, %(sport)s,
           %(format)s, %(sha256)s, %(file_name)s, %(activity_size_bytes)s, %(created_at)s,
           %(status)s, %(error_code)s, %(error_message)s, %(needs_work)s, %(generation)s,
           %(priority)s, %(due_at)s, %(pending_since)s, %(lease_owner)s, %(attempts)s,
           %(trace_parent)s
      FROM upload
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT upload.id, upload.activity_id, EXISTS (SELECT 1 FROM activity) FROM upload
"""
_NEW_ACTIVITY_ID = "nextval(pg_get_serial_sequence('activities_activity', 'id'))"
ACCEPT = _ACCEPT.format(activity_id=_NEW_ACTIVITY_ID)
# accept_existing: the same, the upload pointing at the owner's live activity of this
# content when there is one (looked for first).
ACCEPT_EXISTING = _ACCEPT.format(activity_id=f"""coalesce(
               (SELECT id FROM activities_activity
                 WHERE owner_id = %(owner_id)s AND sha256 = %(sha256)s
                   AND deleted_at IS NULL),
               {_NEW_ACTIVITY_ID})""")


def accept(upload: Upload, activity: Activity) -> bool | None:
    """Insert the (unsaved) upload and the activity of its content, and set their ids;
    None if the owner has this upload already (nothing written), else whether the
    activity is new (False: it is the owner's live one of this content, and `activity`'s
    id is set to it). Committed on return unless the caller holds a transaction: on
    PostgreSQL in autocommit one statement (ACCEPT), else the three in a transaction of
    their own or the caller's."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        # Inside a caller's transaction the foreign keys ACCEPT relies on would be checked
        # only at its commit: the three statements, which need no such check.
        with transaction.atomic():
            if not insert_upload(upload):
                return None
            activity.upload_id = upload.id
            return insert_activity(activity)
    # One set of parameters: the rows share the owner, content and time; the sizes (the
    # upload's as sent, the activity's inflated) and file names are their own.
    uploads = _params(upload, UPLOAD_COLUMNS)
    activities = _params(activity, ACTIVITY_COLUMNS)
    params = activities | uploads | {
        "upload_file_name": uploads["file_name"], "file_name": activities["file_name"],
        "size_bytes": uploads["size_bytes"], "activity_size_bytes": activities["size_bytes"]}
    row = _accept(params)
    if row is None:
        return None
    upload.id, activity.id, created = row
    upload.activity_id, activity.upload_id = activity.id, upload.id
    return created


def _accept(params: dict) -> tuple | None:
    """ACCEPT's row, or ACCEPT_EXISTING's when the owner has a live activity of this
    content (ACCEPT's foreign key failed: nothing was written)."""
    try:
        return _run(ACCEPT, params)
    except IntegrityError:
        pass
    try:
        return _run(ACCEPT_EXISTING, params)
    except IntegrityError:
        # Such an activity committed between this statement's look and its insert: the
        # look finds it now.
        return _run(ACCEPT_EXISTING, params)


def _run(statement: str, params: dict) -> tuple | None:
    with connection.cursor() as cursor:  # autocommit: the statement is its own
        cursor.execute(statement, params)
        return cursor.fetchone()


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
