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
