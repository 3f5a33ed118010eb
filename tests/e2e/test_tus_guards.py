"""One PATCH at a time changes a tus upload: eight sent at once at one offset, over real
connections, leave exactly one stored and seven refused with 409. And an upload past its
expiry answers 410 to HEAD and PATCH before the sweep has failed it."""

import http.client
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from freezegun import freeze_time

from activities import tokens
from tests.conftest import NOW
from tests.e2e.test_tus import TUS, create, patch
from transfers import tus_bytes
from transfers.models import UploadSession

RACERS = 8
LENGTH = 64 * 1024

pytestmark = [pytest.mark.django_db, pytest.mark.storage]


def _patch_together(url: str, token: str, bodies: list[bytes]) -> list[int]:
    """PATCH each body at offset 0 on a connection of its own: every request's head and
    first half are sent, then (once all are that far, and a moment later) every second
    half. Each server thread has read the offset (0) by then: the race is on storing.
    The statuses."""
    target = urlsplit(url)
    halfway = threading.Barrier(len(bodies), timeout=30)
    statuses: list[int | None] = [None] * len(bodies)

    def send(index: int, body: bytes) -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
        try:
            connection.putrequest("PATCH", target.path)
            for name, value in (("Authorization", f"Bearer {token}"),
                                ("Tus-Resumable", "1.0.0"), ("Upload-Offset", "0"),
                                ("Content-Type", "application/offset+octet-stream"),
                                ("Content-Length", str(len(body)))):
                connection.putheader(name, value)
            connection.endheaders()
            connection.send(body[:len(body) // 2])
            halfway.wait()
            # Time for every server thread to read the offset before any body is whole
            # (a slow store's listing takes a while); without it they would queue anyway.
            time.sleep(1.0)
            connection.send(body[len(body) // 2:])
            statuses[index] = connection.getresponse().status
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(n, body)) for n, body in enumerate(bodies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    return statuses


@pytest.mark.django_db(transaction=True)
def test_of_eight_patches_at_one_offset_one_is_stored_and_seven_get_409(live_server, user,
                                                                          store_backend):
    from django.test import Client

    token = tokens.create(user)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    url = live_server.url + urlsplit(create(api, LENGTH)["Location"]).path
    # Each racer's bytes are its own, so the file shows whose were stored.
    bodies = [bytes([ord("a") + n]) * LENGTH for n in range(RACERS)]
    statuses = _patch_together(url, token, bodies)
    print(f"tus race: {RACERS} PATCHes at offset 0 answered {sorted(statuses)}")
    assert sorted(statuses) == [204] + [409] * (RACERS - 1)
    winner = bodies[statuses.index(204)]
    session = UploadSession.objects.get()
    assert tus_bytes.offset(session) == LENGTH
    with tus_bytes.opened(session) as stored:
        assert stored.read() == winner  # the acknowledged bytes, and only them


def test_an_expired_upload_answers_410_to_head_and_patch(api, store_backend):
    with freeze_time(NOW) as clock:
        url = create(api, 100)["Location"]
        assert patch(api, url, b"x" * 40, 0).status_code == 204
        complete = create(api, 10)["Location"]
        assert patch(api, complete, b"y" * 10, 0).status_code == 204
        # Past its expiry, within the grace the sweep gives a PUT in flight: not failed yet.
        clock.tick(timedelta(seconds=settings.CAIRN_SESSION_TTL_S + 1))
        assert UploadSession.objects.get(size_bytes=100).status == "uploading"
        assert api.head(url, **TUS).status_code == 410
        late = patch(api, url, b"x" * 60, 40)
        assert late.status_code == 410 and late.json()["error"]["code"] == "SessionClosed"
        # One whose bytes are all in is still ingested: HEAD says it has them.
        whole = api.head(complete, **TUS)
        assert whole.status_code == 200 and whole["Upload-Offset"] == "10"
