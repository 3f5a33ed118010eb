"""Resumable uploads (tus 1.0.0) with the real Python client, tuspy: an archive sent in
chunks, the connection dropped mid-way, resumed by a new client from the stored URL."""

import io
import json
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from freezegun import freeze_time
from tusclient import client as tus_client
from tusclient.exceptions import TusCommunicationError
from tusclient.fingerprint import interface
from tusclient.storage.filestorage import FileStorage

from activities import tokens
from activities.models import Activity, ArchiveMember
from reconciler import sweep
from tests import factories
from tests.conftest import NOW
from tests.cutproxy import CutProxy
from transfers import sessions, store, tus_bytes
from transfers.models import UploadSession

CHUNK = 32 * 1024
TUS = {"HTTP_TUS_RESUMABLE": "1.0.0"}


class Named(interface.Fingerprint):
    """The key of the stored URL, without reading the file (so that only the bytes sent
    are counted)."""

    def get_fingerprint(self, fs):
        return "export.zip"


class Counted(io.BytesIO):
    """The file as the client reads it to send: counts the bytes read while `counting`
    (the client closes it after each use)."""

    read_bytes = 0
    counting = False

    def read(self, size=-1):
        data = super().read(size)
        if Counted.counting:
            Counted.read_bytes += len(data)
        return data

    def close(self):
        pass


def resumable(server: str, token: str, data: bytes, urls: FileStorage, *,
              chunk_size: int):
    """A new tuspy uploader of `data` (read through Counted), its URL kept in `urls`."""
    client = tus_client.TusClient(f"{server}/api/v1/tus",
                                  headers={"Authorization": f"Bearer {token}"})
    return client.uploader(file_stream=Counted(data), chunk_size=chunk_size, retries=0,
                           store_url=True, url_storage=urls, fingerprinter=Named(),
                           metadata={"filename": "export.zip"})


def export(count: int = 12) -> bytes:
    members = [(f"activities/{n}.fit", factories.fit(points=3000, seed=500 + n))
               for n in range(count)]
    return factories.archive(members, folders=("activities/",))


@dataclass
class Resumed:
    session: UploadSession
    token: str
    #: The offset the second client resumed from, and the bytes it read again.
    stored: int
    resent: int


def cut_and_resume(live_server, user, tmp_path, data: bytes, *, chunk_size: int,
                   cut_after: int) -> Resumed:
    """Upload `data` with tuspy in chunks through a proxy that drops the connection after
    `cut_after` bytes, then again with a new client from the stored URL, which resumes at
    the offset HEAD answers."""
    token = tokens.create(user)
    proxy = CutProxy(int(live_server.url.rsplit(":", 1)[1]))
    urls = FileStorage(str(tmp_path / "tus-urls.json"))
    Counted.read_bytes = 0
    first = resumable(proxy.url, token, data, urls, chunk_size=chunk_size)
    proxy.cut_after(cut_after)
    Counted.counting = True
    with pytest.raises((TusCommunicationError, OSError)):
        first.upload()
    Counted.counting = False
    assert proxy.cuts == 1
    session = UploadSession.objects.get()

    # The cut body's first bytes reached the server, which stores them as far as they
    # came; wait for that (a client resuming sooner is answered 409 and asks again).
    whole_chunks = cut_after // chunk_size * chunk_size
    deadline = time.monotonic() + 30
    while tus_bytes.offset(session) <= whole_chunks and time.monotonic() < deadline:
        time.sleep(0.05)

    second = resumable(proxy.url, token, data, urls, chunk_size=chunk_size)
    stored = second.offset
    assert second.url == first.url and whole_chunks < stored < whole_chunks + chunk_size
    Counted.counting = True
    second.upload()
    Counted.counting = False

    import requests

    head = requests.head(second.url, headers={"Authorization": f"Bearer {token}",
                                              "Tus-Resumable": "1.0.0"}, timeout=10)
    assert head.headers["Upload-Offset"] == str(len(data))
    assert head.headers["Cairn-Upload-Id"] == str(session.upload_id)
    proxy.close()
    return Resumed(session=session, token=token, stored=stored,
                   resent=Counted.read_bytes - len(data))


@pytest.mark.storage
@pytest.mark.django_db(transaction=True)
def test_archive_resumes_after_a_drop_and_every_member_is_imported(live_server, user, tmp_path,
                                                                  store_backend):
    data = export()
    assert len(data) > 4 * CHUNK
    # Mid-way through the third chunk's body.
    resumed = cut_and_resume(live_server, user, tmp_path, data, chunk_size=CHUNK,
                             cut_after=int(2.5 * CHUNK))
    session, token = resumed.session, resumed.token
    print(f"tus: {len(data)} bytes, cut after {resumed.stored} stored, {resumed.resent} "
          "bytes re-sent")
    assert 0 <= resumed.resent < CHUNK

    sweep.drain(budget_s=120)
    members = ArchiveMember.objects.filter(archive__upload__owner=user)
    assert members.filter(status=ArchiveMember.Status.IMPORTED).count() == 12
    assert Activity.objects.filter(owner=user).count() == 12
    assert store.chunks(session.key) == []  # cleaned up once ingested

    from django.test import Client

    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    polled = api.get(f"/api/v1/uploads/{session.upload_id}").json()
    posted = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("export.zip", data)})
    assert posted.json()["duplicate"] and posted.json()["id"] == polled["id"]


pytestmark = [pytest.mark.django_db]


def create(api, length: int, **headers):
    return api.post("/api/v1/tus", **TUS, HTTP_UPLOAD_LENGTH=str(length),
                    HTTP_UPLOAD_METADATA="filename cmlkZS5ncHg=", **headers)


def patch(api, url: str, data: bytes, offset: int, **headers):
    return api.generic("PATCH", url, data, content_type="application/offset+octet-stream",
                       **TUS, HTTP_UPLOAD_OFFSET=str(offset), **headers)


def test_options_advertises_the_protocol_and_extensions(client):
    response = client.options("/api/v1/tus")
    assert response.status_code == 204
    assert response["Tus-Version"] == "1.0.0"
    assert set(response["Tus-Extension"].split(",")) == {"creation", "termination",
                                                        "expiration"}


@pytest.mark.storage
def test_chunks_become_an_upload_and_answer_with_its_id(api, user, store_backend):
    data = factories.gpx(points=200)
    with freeze_time(NOW):
        created = create(api, len(data))
        assert created.status_code == 201 and created["Upload-Expires"]
        url = created["Location"]
        upload_id = created["Cairn-Upload-Id"]
        assert api.get(f"/api/v1/uploads/{upload_id}").json()["status"] == "uploading"
        half = len(data) // 2
        assert patch(api, url, data[:half], 0)["Upload-Offset"] == str(half)
        # Wrong offset: the client must ask first.
        assert patch(api, url, data[half:], 0).status_code == 409
        assert api.head(url, **TUS)["Upload-Offset"] == str(half)
        last = patch(api, url, data[half:], half)
        assert last.status_code == 204 and last["Cairn-Upload-Id"] == upload_id
        # More than Upload-Length is refused before it is read.
        sweep.sweep_once()
    shown = api.get(f"/api/v1/uploads/{upload_id}").json()
    assert shown["status"] in {"queued", "ready"} and shown["activity_id"]


def test_protocol_errors_are_refused_with_a_sentence(api):
    assert api.post("/api/v1/tus", HTTP_UPLOAD_LENGTH="5").status_code == 412
    assert api.post("/api/v1/tus", **TUS).status_code == 400
    assert create(api, 10**13).status_code == 413
    url = create(api, 10)["Location"]
    too_much = patch(api, url, b"x" * 11, 0)
    assert too_much.status_code == 413
    assert json.loads(too_much.content)["error"]["message"].endswith(".")
    assert api.generic("PATCH", url, b"x", content_type="text/plain", **TUS,
                       HTTP_UPLOAD_OFFSET="0").status_code == 415


def test_another_users_tus_upload_is_not_found(api, other_user):
    from django.test import Client

    url = create(api, 10)["Location"]
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert mallory.head(url, **TUS).status_code == 404
    assert patch(mallory, url, b"x", 0).status_code == 404


@pytest.mark.storage
def test_termination_fails_the_upload_and_the_sweep_removes_its_chunks(api, store_backend):
    with freeze_time(NOW) as clock:
        created = create(api, 100)
        url = created["Location"]
        patch(api, url, b"x" * 40, 0)
        session = UploadSession.objects.get()
        assert store.offset(session.key) == 40
        assert api.delete(url, **TUS).status_code == 204
        sweep.sweep_once()
        clock.tick(timedelta(seconds=1))
        sweep.sweep_once()
    assert store.chunks(session.key) == []
    shown = api.get(f"/api/v1/uploads/{created['Cairn-Upload-Id']}").json()
    assert shown["status"] == "failed" and shown["error_code"] == "Terminated"
    assert api.head(url, **TUS).status_code == 410


@pytest.mark.storage
def test_an_abandoned_upload_expires_and_its_chunks_are_removed(api, store_backend):
    with freeze_time(NOW) as clock:
        created = create(api, 100)
        patch(api, created["Location"], b"x" * 40, 0)
        session = UploadSession.objects.get()
        clock.tick(timedelta(seconds=settings.CAIRN_SESSION_TTL_S) + sessions.EXPIRY_GRACE)
        sweep.sweep_once()
        clock.tick(timedelta(seconds=1))
        sweep.sweep_once()
    assert store.chunks(session.key) == []
    shown = api.get(f"/api/v1/uploads/{created['Cairn-Upload-Id']}").json()
    assert shown["error_code"] == "UploadExpired"
    assert not UploadSession.objects.get().needs_work
