"""What one API upload asks of the database: a statement added to the upload path shows
here first (benchmark a measures what each costs)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from activities import acceptance
from activities.models import Activity, Upload
from reconciler import nudge_queue
from tests import factories

# transaction=True: no test transaction around the request, so that the upload opens and
# commits its own, as in production (a test transaction would add savepoints).
pytestmark = pytest.mark.django_db(transaction=True)

#: An upload of a new file, its token already looked up. On SQLite: the upload, the
#: activity, the link between them, and the transaction around them; on PostgreSQL one
#: statement (acceptance.ACCEPT) in autocommit. Nothing is read.
SQLITE_NEW_FILE = ["BEGIN", "INSERT INTO activities_upload", "INSERT INTO activities_activity",
                   "UPDATE activities_upload", "COMMIT"]
POSTGRES_NEW_FILE = ["WITH ids AS"]
KNOWN = [*SQLITE_NEW_FILE, *POSTGRES_NEW_FILE]


def new_file() -> list[str]:
    return POSTGRES_NEW_FILE if connection.vendor == "postgresql" else SQLITE_NEW_FILE


@pytest.fixture(autouse=True)
def _nudges_queued(settings):
    """As in production: the nudge leaves from the queue, after the answer."""
    settings.CAIRN_NUDGE_QUEUE = 100
    nudge_queue.QUEUE.reset()
    yield
    nudge_queue.QUEUE.join()
    nudge_queue.QUEUE.reset()


def _statements(queries) -> list[str]:
    """Each statement as KNOWN names it (its first words; SQLite's BEGIN IMMEDIATE is
    BEGIN)."""
    out = []
    for query in queries.captured_queries:
        sql = " ".join(query["sql"].replace('"', "").split())
        out.append(next((s for s in KNOWN if sql == s or sql.startswith(s + " ")), sql[:40]))
    return out


def _post(api, data: bytes):
    return api.post("/api/v1/uploads", {"file": SimpleUploadedFile("ride.gpx", data)})


def test_an_upload_of_a_new_file_is_one_statement_or_three_in_one_transaction(api):
    assert _post(api, factories.gpx(seed=1)).status_code == 202  # looks the token up
    with CaptureQueriesContext(connection) as queries:
        response = _post(api, factories.gpx(seed=2))
    assert response.status_code == 202
    # BEGIN and COMMIT are only captured where the driver sends them as statements.
    assert [s for s in _statements(queries) if s not in ("BEGIN", "COMMIT")] == [
        s for s in new_file() if s not in ("BEGIN", "COMMIT")]
    assert len(queries) <= len(new_file())
    activity = Activity.objects.get(id=response.json()["activity_id"])
    assert Upload.objects.get(id=response.json()["id"]).activity_id == activity.id
    assert activity.upload_id == response.json()["id"]
    assert activity.needs_work and activity.status == Activity.Status.QUEUED


def test_a_duplicate_is_one_insert_that_conflicts_then_reads_what_it_repeats(api):
    data = factories.gpx(seed=3)
    first = _post(api, data).json()
    with CaptureQueriesContext(connection) as queries:
        again = _post(api, data)
    assert again.json()["duplicate"] is True
    assert again.json()["activity_id"] == first["activity_id"]
    statements = [s for s in _statements(queries) if s not in ("BEGIN", "COMMIT")]
    assert statements[0] == new_file()[0 if connection.vendor == "postgresql" else 1]
    # The insert, the upload it repeats, its activity and that one's outputs (its answer
    # shows their progress).
    assert len(statements) <= 4


@pytest.mark.parametrize(("model", "columns"), [
    (Upload, acceptance.UPLOAD_COLUMNS),  # insert_upload
    (Activity, acceptance.ACTIVITY_COLUMNS),  # insert_activity
])
def test_the_named_inserts_set_every_column_that_has_no_database_default(model, columns):
    """A field added to the model without a database default must be added to the
    statement too, or every upload would fail."""
    needed = {field.column for field in model._meta.concrete_fields
              if not field.null and not field.primary_key and not field.has_db_default()}
    assert needed <= set(columns)
    # PostgreSQL's one statement names them too, in the insert of the model's table.
    table = acceptance.ACCEPT.split(f"INSERT INTO {model._meta.db_table}")[1]
    named = table[table.index("(") + 1:table.index(")")]
    assert needed <= {name.strip() for name in named.split(",")}


def test_the_rate_limit_adds_one_statement(api, settings):
    settings.CAIRN_UPLOADS_PER_MINUTE = 100
    assert _post(api, factories.gpx(seed=4)).status_code == 202  # makes the owner's window
    with CaptureQueriesContext(connection) as queries:
        assert _post(api, factories.gpx(seed=5)).status_code == 202
    statements = [s for s in _statements(queries) if s not in ("BEGIN", "COMMIT")]
    assert statements[0].startswith("UPDATE activities_uploadwindow")
    assert statements[1:] == [s for s in new_file() if s not in ("BEGIN", "COMMIT")]
