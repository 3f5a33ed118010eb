"""An upload whose insert meets an earlier one that is deleted before it can be read (the
earlier upload's activity deleted in between): the insert is tried once more, and a second
such miss is a 409 with a sentence, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from activities import ingest
from activities.models import Activity, Upload
from tests import factories

pytestmark = pytest.mark.django_db


def _post(api, data: bytes):
    return api.post("/api/v1/uploads", {"file": SimpleUploadedFile("a.gpx", data)})


def test_a_conflict_that_vanished_is_inserted_again(api, monkeypatch):
    data = factories.gpx()
    first = _post(api, data).json()
    real = ingest.existing
    misses = []

    def deleted_in_between(owner, **kwargs):
        if not misses:  # the earlier upload is deleted just before it is read
            misses.append(1)
            Upload.objects.filter(id=first["id"]).update(deleted_at=timezone.now())
            Activity.objects.filter(id=first["activity_id"]).update(deleted_at=timezone.now())
            return None
        return real(owner, **kwargs)

    monkeypatch.setattr(ingest, "existing", deleted_in_between)
    again = _post(api, data)
    assert again.status_code == 202
    assert again.json()["duplicate"] is False
    assert again.json()["activity_id"] != first["activity_id"]


def test_a_conflict_that_vanishes_twice_is_a_409(api, monkeypatch):
    data = factories.gpx()
    assert _post(api, data).status_code == 202
    monkeypatch.setattr(ingest, "existing", lambda owner, **kwargs: None)
    response = _post(api, data)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "Conflict"


@pytest.mark.postgres_only(reason="PostgreSQL's one acceptance statement")
@pytest.mark.django_db(transaction=True)  # autocommit, as a request runs it
def test_an_activity_of_the_content_committed_after_the_statements_look_is_linked(user):
    """The race acceptance._accept runs again for: the owner's live activity of this
    content (an archive's) is missed by the statement's look, so the new upload points
    at an activity id that never comes to be. The foreign key refuses it, nothing is
    written, and the second run links the upload to that activity."""
    from django.db import connection

    from activities import acceptance

    data = factories.gpx(seed=41)
    archived = ingest.accept(data, owner=user).activity
    # As an archive leaves it: the activity is live, no live upload has its content.
    Upload.objects.filter(activity=archived).update(deleted_at=timezone.now())
    runs = []

    def blind_first(execute, sql, params, many, context):
        if sql == acceptance.ACCEPT:
            runs.append(sql)
            if len(runs) == 1:  # the look misses, as if the activity came just after it
                sql = sql.replace("AND deleted_at IS NULL)", "AND false)", 1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(blind_first):
        again = ingest.accept(data, owner=user)
    assert len(runs) == 2
    assert (again.created, again.activity.id) == (False, archived.id)
    assert Upload.objects.get(id=again.upload.id).activity_id == archived.id
    assert Activity.objects.filter(owner=user).count() == 1
