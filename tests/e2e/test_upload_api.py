"""POST/GET /api/v1/uploads and GET /api/v1/activities: the HTTP contract."""

import gzip

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from freezegun import freeze_time

from activities.models import Activity, Upload
from core import derivers
from reconciler import sweep
from tests import factories
from tests.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.storage]


def post(client, data: bytes, name="ride.gpx", **headers):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post("/api/v1/uploads", {"file": SimpleUploadedFile(name, data)}, **headers)


def test_upload_answers_202_with_the_upload_json_and_a_committed_activity(api):
    with freeze_time(NOW):
        response = post(api, factories.gpx())
    assert response.status_code == 202
    body = response.json()
    assert set(body) >= {"id", "activity_id", "status", "error", "progress", "created_at",
                         "updated_at"}
    assert body["status"] == "queued"
    assert body["error"] is None
    assert body["progress"] == dict.fromkeys(derivers.VERSIONS, False)
    assert body["created_at"] == "2026-01-15T12:00:00Z"
    activity = Activity.objects.get(id=body["activity_id"])
    assert activity.needs_work
    assert default_storage.exists(activity.file_name)


def test_upload_becomes_ready_and_the_summary_is_served(api):
    with freeze_time(NOW):
        body = post(api, factories.gpx(points=100)).json()
        sweep.drain()
    upload = api.get(f"/api/v1/uploads/{body['id']}").json()
    assert upload["status"] == "ready"
    assert upload["progress"] == dict.fromkeys(derivers.VERSIONS, True)
    activity = api.get(f"/api/v1/activities/{body['activity_id']}").json()
    assert activity["status"] == "ready"
    assert activity["point_count"] == 100
    assert activity["distance_m"] > 2000
    assert activity["start_time"].endswith("Z")
    assert activity["versions"] == derivers.VERSIONS
    assert set(activity["bbox"]) == {"min_lat", "min_lon", "max_lat", "max_lon"}


def test_gzipped_gpx_is_accepted_and_stored_under_its_content_hash(api):
    data = factories.gpx()
    body = post(api, gzip.compress(data), name="../../etc/passwd").json()
    activity = Activity.objects.get(id=body["activity_id"])
    assert activity.format == "gpx"
    assert "passwd" not in activity.file_name
    assert activity.file_name.startswith(f"originals/{activity.sha256[:2]}/{activity.sha256}")
    assert activity.file_name.endswith(".gpx.gz")


def test_format_is_decided_by_content_not_by_name(api):
    body = post(api, factories.gpx(), name="ride.fit").json()
    assert Activity.objects.get(id=body["activity_id"]).format == "gpx"
    response = post(api, b"just some text, not an activity\n" * 10, name="ride.gpx")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "UnsupportedFile"


@pytest.mark.parametrize("data", [
    b"",  # empty
    b"<html><body>not gpx</body></html>",  # XML-ish, wrong root
    gzip.compress(b"plain text inside gzip"),  # gzip of something else
    b"\x1f\x8b\x08\x00garbage",  # broken gzip
])
def test_not_an_activity_file_is_refused_with_415_and_nothing_stored(api, data):
    response = post(api, data)
    assert response.status_code == 415
    assert set(response.json()["error"]) == {"code", "message"}
    assert not Upload.objects.exists()


def test_file_over_the_size_limit_is_refused_with_413(api, settings):
    settings.CAIRN_MAX_UPLOAD_MB = 1
    response = post(api, factories.gpx(points=12_000))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "TooLarge"
    assert not Upload.objects.exists()


def test_gzip_that_inflates_past_the_limit_is_refused_with_413(api, settings):
    settings.CAIRN_MAX_UPLOAD_MB = 1
    settings.CAIRN_MAX_INFLATE_RATIO = 2
    bomb = gzip.compress(b"<gpx>" + b" " * (3 * 2**20))
    assert len(bomb) < 2**20
    response = post(api, bomb)
    assert response.status_code == 413


def test_same_bytes_from_the_same_owner_give_back_the_same_upload(api):
    data = factories.gpx()
    first = post(api, data).json()
    again = post(api, data).json()
    zipped = post(api, gzip.compress(data)).json()
    assert again["id"] == zipped["id"] == first["id"]
    assert again["duplicate"] is True
    assert Activity.objects.count() == 1


def test_repeated_idempotency_key_gives_back_the_first_answer(api):
    data = factories.gpx()
    first = post(api, data, HTTP_IDEMPOTENCY_KEY="k-1")
    second = post(api, data, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 202
    assert second.json() == first.json()
    other = post(api, factories.gpx(), HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "IdempotencyKeyReused"


def test_missing_file_field_is_a_400(api):
    response = api.post("/api/v1/uploads", {"name": "no file"})
    assert response.status_code == 400
    assert "file" in response.json()["error"]["message"]


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Bearer cairn_wrong", "Basic x"])
def test_upload_without_a_valid_token_is_401(header):
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    response = post(client, factories.gpx())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "Unauthorized"
    assert not Upload.objects.exists()


def test_other_users_upload_and_activity_answer_404(api, other_user):
    from activities import tokens

    body = post(api, factories.gpx()).json()
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    for url in (f"/api/v1/uploads/{body['id']}", f"/api/v1/activities/{body['activity_id']}"):
        response = mallory.get(url)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NotFound"


def test_wrong_method_and_unknown_api_path_answer_json(api):
    response = api.get("/api/v1/uploads")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "MethodNotAllowed"
    response = api.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"


def test_tokens_are_stored_hashed(user):
    from activities import tokens
    from activities.models import ApiToken

    token = tokens.create(user)
    stored = ApiToken.objects.get(user=user)
    assert token not in stored.key_hash
    assert len(stored.key_hash) == 64
    assert tokens.authenticate(token) == user
