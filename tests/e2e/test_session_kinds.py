"""A session's bytes go only by its own kind's route: a presigned session's PUT, a tus
upload's PATCH. On fs a PUT stored at a tus upload's key would be a file where the folder of
its chunks belongs; an older Cairn took such PUTs, and every sweep then raised
NotADirectoryError. The route refuses them now, and the store of a session (and its
clean-up) survives a file where a folder belongs, or a folder where a file does."""

import io
import json
import os
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.test import Client
from freezegun import freeze_time

from activities import tokens
from activities.models import Activity
from reconciler import sweep
from tests import factories
from tests.conftest import NOW
from transfers import sessions, store
from transfers.models import UploadSession

pytestmark = pytest.mark.django_db

TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


def open_tus(api, length: int) -> tuple[UploadSession, str]:
    created = api.post("/api/v1/tus", **TUS, HTTP_UPLOAD_LENGTH=str(length),
                       HTTP_UPLOAD_METADATA="filename cmlkZS5ncHg=")
    assert created.status_code == 201, created.content
    return UploadSession.objects.get(upload_id=created["Cairn-Upload-Id"]), created["Location"]


def open_presigned(api, data: bytes) -> tuple[UploadSession, dict]:
    answer = api.post("/api/v1/upload-sessions",
                      json.dumps({"filename": "ride.gpx", "size": len(data)}),
                      content_type="application/json")
    assert answer.status_code == 201, answer.content
    return UploadSession.objects.get(id=answer.json()["id"]), answer.json()


def bobs_upload(bob) -> UploadSession:
    """A presigned upload of bob's, its bytes sent as its session says."""
    data = factories.gpx(points=80, seed=7)
    session, answer = open_presigned(bob, data)
    if store.is_object_store():
        sent = requests.put(answer["url"], data=data, headers=answer["headers"], timeout=30)
        assert sent.status_code == 200
        sessions.nudge(session.id)
    else:
        assert put(bob, session, data).status_code == 200
    return session


def put(api, session: UploadSession, data: bytes):
    return api.generic("PUT", f"/api/v1/upload-sessions/{session.id}/content", data,
                       content_type="application/octet-stream")


def patch(api, url: str, data: bytes, offset: int):
    return api.generic("PATCH", url, data, content_type="application/offset+octet-stream",
                       **TUS, HTTP_UPLOAD_OFFSET=str(offset))


def local(key: str) -> str:
    return default_storage.path(key)


def settled(session: UploadSession) -> UploadSession:
    return UploadSession.objects.get(id=session.id)


@pytest.fixture
def bob(django_user_model):
    """Another user, whose uploads must settle whatever alice does to her own."""
    user = django_user_model.objects.create_user("bob", password="ridge-line-4")
    return Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")


@pytest.mark.storage
@pytest.mark.usefixtures("store_backend")
def test_a_put_to_ones_own_tus_upload_is_refused_and_every_sweep_completes(api, bob):
    data = factories.gpx(points=120)
    with freeze_time(NOW) as clock:
        session, url = open_tus(api, len(data))
        refused = put(api, session, data)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "Conflict"
        assert f"/api/v1/tus/{session.id}" in refused.json()["error"]["message"]
        if not store.is_object_store():
            assert not os.path.exists(local(session.key))
        theirs = bobs_upload(bob)
        for _ in range(3):
            sweep.sweep_once()
            clock.tick(timedelta(seconds=1))
        assert settled(theirs).status == UploadSession.Status.INGESTED
        # The tus upload itself goes on as tus.
        assert api.head(url, **TUS)["Upload-Offset"] == "0"
        assert patch(api, url, data, 0).status_code == 204
        sweep.sweep_once()
    assert settled(session).status == UploadSession.Status.INGESTED
    assert Activity.objects.count() == 2


@pytest.mark.storage
@pytest.mark.usefixtures("store_backend")
def test_tus_routes_refuse_a_presigned_session(api):
    session, _ = open_presigned(api, b"x" * 10)
    url = f"/api/v1/tus/{session.id}"
    for answer in (api.head(url, **TUS), patch(api, url, b"x" * 10, 0),
                   api.delete(url, **TUS)):
        assert answer.status_code == 409
    assert "not a tus upload" in patch(api, url, b"x", 0).json()["error"]["message"]
    assert settled(session).status == UploadSession.Status.UPLOADING
    assert store.stored_size(session.key) is None


def plant_file_at_tus_folder(session: UploadSession, data: bytes) -> None:
    """What an older Cairn's PUT left: the whole body stored as a file at the tus key."""
    default_storage.save(session.key, File(io.BytesIO(data)))
    assert os.path.isfile(local(session.key))
    sessions.nudge(session.id)  # that PUT nudged the session too


def test_a_file_where_a_tus_folder_belongs_stops_no_sweep(api, bob):
    """fs only: on an object store a key and a folder of the same name never collide."""
    data = factories.gpx(points=120)
    with freeze_time(NOW) as clock:
        resumed, url = open_tus(api, len(data))
        terminated, terminated_url = open_tus(api, len(data))
        abandoned, _ = open_tus(api, len(data))
        for session in (resumed, terminated, abandoned):
            plant_file_at_tus_folder(session, data)
        theirs = bobs_upload(bob)
        bobs_tus, bobs_url = open_tus(bob, len(data))
        assert patch(bob, bobs_url, data, 0).status_code == 204
        # Every round completes (before: each raised NotADirectoryError), and bob's
        # uploads settle in the first.
        for _ in range(3):
            sweep.sweep_once()
            clock.tick(timedelta(seconds=1))
        assert settled(theirs).status == UploadSession.Status.INGESTED
        assert settled(bobs_tus).status == UploadSession.Status.INGESTED
        # The tus routes answer (before: 500): nothing of the file counts as chunks, and a
        # PATCH stores its chunk in the folder's place.
        head = api.head(url, **TUS)
        assert head.status_code == 200 and head["Upload-Offset"] == "0"
        assert patch(api, url, data, 0).status_code == 204
        assert os.path.isdir(local(resumed.key))
        # Failing one clears it (before: its clean-up raised too).
        assert api.delete(terminated_url, **TUS).status_code == 204
        sweep.sweep_once()
        clock.tick(timedelta(seconds=1))
        sweep.sweep_once()
        clock.tick(timedelta(seconds=settings.CAIRN_SESSION_TTL_S) + sessions.EXPIRY_GRACE)
        sweep.sweep_once()
        clock.tick(timedelta(seconds=1))
        sweep.sweep_once()
    assert settled(resumed).status == UploadSession.Status.INGESTED
    assert settled(terminated).error_code == "Terminated"
    assert settled(abandoned).error_code == "UploadExpired"
    for session in (terminated, abandoned):
        assert not settled(session).needs_work
        assert not os.path.exists(local(session.key))


def test_a_folder_where_a_presigned_object_belongs_stops_no_sweep(api, bob):
    """fs only: the converse, a folder (with a file in it) at a presigned session's key."""
    data = factories.gpx(points=120)
    with freeze_time(NOW) as clock:
        (sent, _), (expired, _) = open_presigned(api, data), open_presigned(api, data)
        for session in (sent, expired):
            default_storage.save(f"{session.key}/stray", File(io.BytesIO(b"stray")))
            sessions.nudge(session.id)
        theirs = bobs_upload(bob)
        sweep.sweep_once()
        assert settled(theirs).status == UploadSession.Status.INGESTED
        assert settled(sent).status == UploadSession.Status.UPLOADING  # nothing arrived
        assert put(api, sent, data).status_code == 200  # stored in the folder's place
        sweep.sweep_once()
        clock.tick(timedelta(seconds=settings.CAIRN_SESSION_TTL_S) + sessions.EXPIRY_GRACE)
        sweep.sweep_once()
        clock.tick(timedelta(seconds=1))
        sweep.sweep_once()
    assert settled(sent).status == UploadSession.Status.INGESTED
    assert settled(expired).error_code == "UploadExpired"
    assert not settled(expired).needs_work
    assert not os.path.exists(local(expired.key))
