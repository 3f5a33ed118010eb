"""What one user may hold open in upload sessions: a session declares at most an activity
file's limit unless its name or type says zip archive; a user has at most
CAIRN_SESSION_MAX_OPEN open sessions declaring at most CAIRN_SESSION_MAX_OPEN_MB together
(429 with a sentence past either; 413 for one that could never fit). Requests sent at
once cannot pass the caps."""

import base64
import json
import threading
from datetime import timedelta

import pytest
from django.test import Client
from freezegun import freeze_time

from activities import tokens
from tests.conftest import NOW
from tests.e2e.test_tus import TUS
from transfers.models import UploadSession

MiB = 2**20

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.CAIRN_MAX_UPLOAD_MB = 1
    settings.CAIRN_ARCHIVE_MAX_MB = 4


def presigned(api, filename: str, size: int, **extra):
    return api.post("/api/v1/upload-sessions",
                    json.dumps({"filename": filename, "size": size, **extra}),
                    content_type="application/json")


def tus(api, size: int, **metadata: str):
    pairs = ",".join(f"{key} {base64.b64encode(value.encode()).decode()}"
                     for key, value in metadata.items())
    return api.post("/api/v1/tus", **TUS, HTTP_UPLOAD_LENGTH=str(size),
                    HTTP_UPLOAD_METADATA=pairs)


def test_only_a_declared_archive_may_declare_more_than_the_file_limit(api):
    too_big = presigned(api, "ride.gpx", 2 * MiB)
    assert too_big.status_code == 413
    message = too_big.json()["error"]["message"]
    assert "1 MB" in message and ".zip" in message and message.endswith(".")
    assert tus(api, 2 * MiB, filename="ride.gpx").status_code == 413
    assert tus(api, 2 * MiB).status_code == 413  # no name: not an archive
    assert presigned(api, "ride.gpx", MiB).status_code == 201  # within the file limit
    assert presigned(api, "Export.ZIP", 2 * MiB).status_code == 201
    assert presigned(api, "export", 2 * MiB, type="application/zip").status_code == 201
    assert tus(api, 2 * MiB, filename="export", filetype="application/x-zip-compressed"
               ).status_code == 201
    assert presigned(api, "export.zip", 4 * MiB + 1).status_code == 413  # past the archive's
    assert presigned(api, "a.zip", 5, type=7).status_code == 400


def test_open_sessions_are_capped_per_user_until_one_ends(api, other_user, settings):
    settings.CAIRN_SESSION_MAX_OPEN = 3
    with freeze_time(NOW) as clock:
        first = tus(api, 10, filename="ride.gpx")
        assert presigned(api, "b.gpx", 10).status_code == 201
        assert presigned(api, "c.gpx", 10).status_code == 201
        refused = presigned(api, "d.gpx", 10)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "TooManySessions"
        assert "3" in refused.json()["error"]["message"]
        assert tus(api, 10, filename="d.gpx").status_code == 429
        # Another user's are their own.
        mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
        assert presigned(mallory, "m.gpx", 10).status_code == 201
        # Ended (tus termination), one makes room for another...
        assert api.delete(first["Location"], **TUS).status_code == 204
        assert presigned(api, "d.gpx", 10).status_code == 201
        assert presigned(api, "e.gpx", 10).status_code == 429
        # ...and so do expired ones, before the sweep has failed them.
        clock.tick(timedelta(seconds=settings.CAIRN_SESSION_TTL_S))
        assert presigned(api, "e.gpx", 10).status_code == 201
    assert UploadSession.objects.filter(status="uploading").count() == 5


def test_declared_bytes_of_open_sessions_are_capped_per_user(api, settings):
    settings.CAIRN_SESSION_MAX_OPEN_MB = 6
    assert presigned(api, "a.zip", 4 * MiB).status_code == 201
    assert presigned(api, "b.zip", 2 * MiB).status_code == 201  # 6 MB: at the cap
    refused = tus(api, 1, filename="c.gpx")
    assert refused.status_code == 429
    assert "6 MB" in json.loads(refused.content)["error"]["message"]
    settings.CAIRN_SESSION_MAX_OPEN_MB = 3
    UploadSession.objects.all().delete()
    # Larger than the cap itself: no wait would help.
    never = presigned(api, "big.zip", 4 * MiB)
    assert never.status_code == 413 and never.json()["error"]["code"] == "TooLarge"


@pytest.mark.django_db(transaction=True)
def test_sessions_opened_at_once_do_not_pass_the_cap(live_server, user, settings):
    import requests

    settings.CAIRN_SESSION_MAX_OPEN = 3
    token = tokens.create(user)
    start = threading.Barrier(8, timeout=30)
    statuses: list[int] = []

    def open_one(n: int) -> None:
        start.wait()
        statuses.append(requests.post(
            f"{live_server.url}/api/v1/upload-sessions", json={"filename": f"{n}.gpx",
                                                               "size": 10},
            headers={"Authorization": f"Bearer {token}"}, timeout=30).status_code)

    threads = [threading.Thread(target=open_one, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) == [201] * 3 + [429] * 5
    assert UploadSession.objects.count() == 3
