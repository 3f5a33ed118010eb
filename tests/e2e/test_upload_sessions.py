"""Presigned upload sessions: the bytes go to the store (a presigned PUT on s3, Cairn's own
PUT on fs), and the sweep finds them there and ingests them like a POSTed file."""

import hashlib
import io
import json
from datetime import timedelta

import pytest
import requests
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from freezegun import freeze_time

from activities.models import Activity, Upload
from reconciler import sweep
from tests import factories
from tests.conftest import NOW
from transfers import kind as session_kind
from transfers import sessions, settle, store
from transfers.models import UploadSession
from work import leases as work_leases

# Each test on both stores (the parameter alone does not bring the fixture in).
pytestmark = [pytest.mark.django_db, pytest.mark.storage,
              pytest.mark.usefixtures("store_backend")]


def open_session(api, data: bytes, *, filename="ride.gpx", size=None, sha256=None):
    body = {"filename": filename, "size": len(data) if size is None else size}
    if sha256:
        body["sha256"] = sha256
    response = api.post("/api/v1/upload-sessions", json.dumps(body),
                        content_type="application/json")
    assert response.status_code == 201, response.content
    return response.json()


def send(api, answer: dict, data: bytes) -> int:
    """PUT the bytes as the session says: to the store itself, or to Cairn."""
    if store.is_object_store():
        sent = requests.put(answer["url"], data=data, headers=answer["headers"], timeout=30)
        return sent.status_code
    return api.generic("PUT", answer["url"], data,
                       content_type="application/octet-stream").status_code


def upload_of(api, answer: dict) -> dict:
    return api.get(f"/api/v1/uploads/{answer['upload_id']}").json()


def claim(**kwargs):
    return work_leases.claim(session_kind.KIND, trigger="sweep", **kwargs)


def test_presigned_upload_becomes_an_activity_without_a_callback(api, user):
    data = factories.gpx(points=120)
    with freeze_time(NOW) as clock:
        answer = open_session(api, data, sha256=hashlib.sha256(data).hexdigest())
        assert answer["method"] == "PUT" and answer["expires_at"]
        assert upload_of(api, answer)["status"] == "uploading"
        assert send(api, answer, data) == 200
        clock.tick(timedelta(seconds=settings.CAIRN_SESSION_POLL_S))
        sweep.sweep_once()  # looks in the store, ingests
        sweep.sweep_once()  # deletes the session's object
    shown = upload_of(api, answer)
    assert shown["status"] in {"queued", "ready"}
    assert shown["session_upload_id"] == answer["upload_id"]
    activity = Activity.objects.get(owner=user)
    assert activity.sha256 == hashlib.sha256(data).hexdigest()
    assert store.stored_size(UploadSession.objects.get().key) is None
    # The same bytes POSTed are a duplicate of the upload the session became.
    posted = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("again.gpx", data)})
    assert posted.json()["duplicate"] and posted.json()["id"] == shown["id"]


def test_an_archive_sent_directly_expands_into_every_activity(api, user):
    members = [(f"activities/{n}.gpx", factories.gpx(points=40, seed=n)) for n in range(3)]
    data = factories.archive(members, folders=("activities/",))
    with freeze_time(NOW) as clock:
        answer = open_session(api, data, filename="export.zip")
        assert send(api, answer, data) == 200
        api.post(f"/api/v1/upload-sessions/{answer['id']}/complete")  # the optional nudge
        sweep.sweep_once()
        for _ in range(4):
            clock.tick(timedelta(seconds=1))
            sweep.sweep_once()
    shown = upload_of(api, answer)
    assert shown["kind"] == "archive" and shown["progress"]["imported"] == 3
    assert Activity.objects.filter(owner=user).count() == 3


@pytest.mark.parametrize(("declared", "sent", "sha256", "code"), [
    # More bytes than declared (a store that does not bind the length): refused.
    (100, factories.gpx(points=120), None, "TooLarge"),
    # Neither FIT, GPX, TCX nor an archive.
    (None, b"%PDF-1.4 not an activity" * 10, None, "UnsupportedFile"),
    # Other bytes than the declared SHA-256 says (changed or cut on the way).
    (None, factories.gpx(points=120), hashlib.sha256(b"other").hexdigest(), "HashMismatch"),
])
def test_bad_bytes_in_the_store_fail_the_upload_with_a_sentence_and_are_removed(
        api, user, declared, sent, sha256, code):
    with freeze_time(NOW) as clock:
        answer = open_session(api, sent, size=declared, sha256=sha256)
        key = UploadSession.objects.get().key
        # Straight into the store: what a client with the URL (or the store) may leave.
        store.save(key, io.BytesIO(sent))
        sessions.nudge(answer["id"])
        sweep.sweep_once()
        clock.tick(timedelta(seconds=1))
        sweep.sweep_once()
    shown = upload_of(api, answer)
    assert shown["status"] == "failed" and shown["error_code"] == code
    assert shown["error"].endswith(".")
    assert store.stored_size(key) is None
    assert not Activity.objects.exists()


def test_a_presigned_put_of_other_bytes_is_refused_or_fails(api):
    data = factories.gpx(points=120)
    with freeze_time(NOW) as clock:
        answer = open_session(api, data, sha256=hashlib.sha256(data).hexdigest())
        status = send(api, answer, data + b"<!-- more -->")
        assert status >= 400  # the length is bound (signed on s3, checked on fs)
        clock.tick(timedelta(seconds=settings.CAIRN_SESSION_POLL_S))
        sweep.sweep_once()
    assert upload_of(api, answer)["status"] == "uploading"  # still waiting for its bytes
    assert store.stored_size(UploadSession.objects.get().key) is None


def test_a_session_nobody_sends_to_expires(api):
    data = factories.gpx()
    with freeze_time(NOW) as clock:
        answer = open_session(api, data)
        clock.tick(timedelta(seconds=settings.CAIRN_SESSION_TTL_S) + sessions.EXPIRY_GRACE)
        sweep.sweep_once()
    shown = upload_of(api, answer)
    assert shown["status"] == "failed" and shown["error_code"] == "UploadExpired"
    assert UploadSession.objects.get().needs_work  # settled; its (absent) bytes next


def test_two_sweepers_never_ingest_one_session(api, user):
    data = factories.gpx()
    with freeze_time(NOW):
        answer = open_session(api, data)
        assert send(api, answer, data) == 200
        sessions.nudge(answer["id"])
        first = claim(limit=10, now=NOW, owner="a")
        assert claim(limit=10, now=NOW, owner="b") == []
        assert session_kind.settle(first[0]) == "converged"
    assert Upload.objects.filter(kind=Upload.Kind.FILE).count() == 1


def test_bad_declarations_are_refused_with_a_sentence(api):
    for body, status in (({"filename": "a.gpx"}, 400),
                         ({"filename": "a.gpx", "size": 10**13}, 413),
                         ({"filename": "a.gpx", "size": 5, "sha256": "abc"}, 400)):
        response = api.post("/api/v1/upload-sessions", json.dumps(body),
                            content_type="application/json")
        assert response.status_code == status
        assert response.json()["error"]["message"].endswith(".")
    assert api.post("/api/v1/upload-sessions", "nope",
                    content_type="application/json").status_code == 400


def test_another_users_session_is_not_found(api, other_user):
    from django.test import Client

    from activities import tokens

    answer = open_session(api, factories.gpx())
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert mallory.get(f"/api/v1/upload-sessions/{answer['id']}").status_code == 404
    assert mallory.post(f"/api/v1/upload-sessions/{answer['id']}/complete").status_code == 404
    assert mallory.generic("PUT", f"/api/v1/upload-sessions/{answer['id']}/content",
                           b"x").status_code == 404
    assert mallory.get(f"/api/v1/uploads/{answer['upload_id']}").status_code == 404


def test_a_sweeper_dying_after_the_ingest_loses_nothing(api, user):
    data = factories.gpx(points=90)
    with freeze_time(NOW):
        answer = open_session(api, data)
        assert send(api, answer, data) == 200
        sessions.nudge(answer["id"])
        taken = claim(limit=1, now=NOW, owner="a")
        # The ingest commits, then the process dies before recording it: its lease runs
        # out and the next sweeper does it again, finding the same content.
        ingested = settle._ingest(UploadSession.objects.get(), len(data))
    with freeze_time(NOW + timedelta(seconds=settings.CAIRN_LEASE_S + 1)):
        assert taken and sweep.sweep_once().claimed >= 1
        sweep.sweep_once()
    session = UploadSession.objects.get()
    assert session.status == "ingested" and session.result_id == ingested.upload.id
    assert Activity.objects.filter(owner=user).count() == 1
    assert store.stored_size(session.key) is None


def test_deleting_the_activity_removes_the_sessions_upload_too(api, user, client):
    data = factories.gpx(points=90)
    with freeze_time(NOW) as clock:
        answer = open_session(api, data)
        assert send(api, answer, data) == 200
        sessions.nudge(answer["id"])
        sweep.sweep_once()
        client.force_login(user)
        page = client.get(f"/uploads/{answer['upload_id']}/")
        assert page.status_code == 302  # to the upload the bytes became
        activity_id = upload_of(api, answer)["activity_id"]
        assert api.delete(f"/api/v1/activities/{activity_id}").status_code == 204
        clock.tick(timedelta(seconds=1))
    assert api.get(f"/api/v1/uploads/{answer['upload_id']}").status_code == 404


def test_the_status_page_of_an_upload_still_coming_says_so(api, user, client):
    answer = open_session(api, factories.gpx())
    client.force_login(user)
    page = client.get(f"/uploads/{answer['upload_id']}/")
    assert b"Waiting for the file" in page.content
    assert b"ride.gpx" in client.get("/upload/").content


def test_a_nudge_while_the_sweep_looks_is_not_lost(api):
    data = factories.gpx(points=90)
    with freeze_time(NOW) as clock:
        answer = open_session(api, data)
        clock.tick(timedelta(seconds=settings.CAIRN_SESSION_POLL_S))
        now = NOW + timedelta(seconds=settings.CAIRN_SESSION_POLL_S)
        taken = claim(limit=1, now=now, owner="a")
        # A nudge comes while this round holds the session (and finds nothing): the
        # bytes may have landed just after it looked.
        sessions.nudge(answer["id"])
        assert session_kind.settle(taken[0]) == "waiting"
        assert UploadSession.objects.get().due_at <= now  # looked at again at once
        assert send(api, answer, data) == 200
        sweep.sweep_once()
    assert upload_of(api, answer)["status"] in {"queued", "ready"}
