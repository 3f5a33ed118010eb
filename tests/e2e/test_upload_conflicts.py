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
@pytest.mark.parametrize("race", [False, True])
def test_an_upload_of_an_archives_activity_is_linked_to_it(user, race):
    """The owner has a live activity of this content and no live upload of it (an archive
    brought it): ACCEPT, which looks for nothing, fails on its foreign key and writes
    nothing; ACCEPT_EXISTING links the upload to that activity. With `race`, the activity
    is missed by ACCEPT_EXISTING's look too (as if it committed just after it): it fails
    the same way, and runs again."""
    from django.db import connection

    from activities import acceptance

    data = factories.gpx(seed=41)
    archived = ingest.accept(data, owner=user).activity
    Upload.objects.filter(activity=archived).update(deleted_at=timezone.now())
    runs = []

    def watch(execute, sql, params, many, context):
        if sql in (acceptance.ACCEPT, acceptance.ACCEPT_EXISTING):
            runs.append("existing" if sql == acceptance.ACCEPT_EXISTING else "new")
            if race and runs == ["new", "existing"]:  # the look misses
                sql = sql.replace("AND deleted_at IS NULL)", "AND false)", 1)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(watch):
        again = ingest.accept(data, owner=user)
    assert runs == (["new", "existing", "existing"] if race else ["new", "existing"])
    assert (again.created, again.activity.id) == (False, archived.id)
    assert Upload.objects.get(id=again.upload.id).activity_id == archived.id
    assert Activity.objects.filter(owner=user).count() == 1

