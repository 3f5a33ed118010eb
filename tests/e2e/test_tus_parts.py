"""tus uploads larger than a multipart part: on s3 the chunks become parts of a multipart
upload (transfers/parts.py), on fs they stay chunks. Sent in 1 MiB chunks, cut, crashed
between any two steps, resumed by another client: every byte arrives, and termination and
expiry leave nothing in the store (listed on the real store)."""

import hashlib
import random
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from activities import tokens
from activities.models import Upload
from reconciler import sweep
from tests import factories
from tests.e2e.test_tus import TUS, create, cut_and_resume, patch
from transfers import multipart, parts, sessions, store
from transfers.models import UploadSession
from work import clock

MiB = 2**20

pytestmark = [pytest.mark.django_db]


class Crash(Exception):
    """The process handling the request dies here."""


def big_archive(seed: int = 7) -> bytes:
    """A zip of one FIT and 6.3 MiB that do not compress: more than one part."""
    filler = random.Random(seed).randbytes(6 * MiB + 300_000)
    return factories.archive([("activities/1.fit", factories.fit(points=300, seed=seed)),
                              ("notes/filler.bin", filler)], folders=("activities/",))


def send_from(api, url: str, data: bytes, start: int) -> int:
    """PATCH the rest of the file from `start` in 1 MiB chunks; the offset at the end."""
    position = start
    while position < len(data):
        answer = patch(api, url, data[position:position + MiB], position)
        assert answer.status_code == 204, answer.content
        position = int(answer["Upload-Offset"])
    return position


def left_in_store(session: UploadSession, backend: str, request) -> tuple[list, list]:
    """(multipart uploads, objects) under the session's key, as the store lists them."""
    if backend == "fs":
        return [], store.listed(session.key)
    client = request.getfixturevalue("weed").client()
    key = default_storage._normalize_name(session.key)
    uploads = client.list_multipart_uploads(Bucket=default_storage.bucket_name,
                                            Prefix=key).get("Uploads", [])
    objects = client.list_objects_v2(Bucket=default_storage.bucket_name,
                                     Prefix=f"{key}/").get("Contents", [])
    return uploads, objects


def ingested_sha256(session: UploadSession) -> str:
    """The SHA-256 of the original the session became, read back from the store."""
    session.refresh_from_db()
    assert session.status == UploadSession.Status.INGESTED, session.error_message
    result = Upload.objects.get(id=session.result_id)
    digest = hashlib.sha256()
    with default_storage.open(result.file_name, "rb") as handle:
        while block := handle.read(MiB):
            digest.update(block)
    assert digest.hexdigest() == result.sha256
    return digest.hexdigest()


def settle_and_clean() -> None:
    sweep.sweep_once()  # ingests
    sweep.sweep_once()  # deletes the session's bytes


@pytest.mark.storage
@pytest.mark.django_db(transaction=True)
def test_a_large_upload_in_small_chunks_resumes_after_a_cut(live_server, user, tmp_path,
                                                           store_backend, request):
    data = big_archive()
    # Mid-way through the sixth chunk: after part 1 (on s3) is sent.
    resumed = cut_and_resume(live_server, user, tmp_path, data, chunk_size=MiB,
                             cut_after=int(5.5 * MiB))
    session = resumed.session
    print(f"tus on {store_backend}: {len(data)} bytes in 1 MiB chunks, cut after "
          f"{resumed.stored} stored, {resumed.resent} bytes re-sent")
    assert 0 <= resumed.resent < MiB

    settle_and_clean()
    assert ingested_sha256(session) == hashlib.sha256(data).hexdigest()
    assert left_in_store(session, store_backend, request) == ([], [])


def _crash_once(monkeypatch, module, name: str, *, before: bool, when=lambda *a, **k: True):
    """Make module.name raise Crash once, the first time `when` holds: before doing its
    work, or after it is done."""
    real = getattr(module, name)
    state = {"crashed": False}

    def crashing(*args, **kwargs):
        if state["crashed"] or not when(*args, **kwargs):
            return real(*args, **kwargs)
        state["crashed"] = True
        if not before:
            real(*args, **kwargs)
        raise Crash(name)

    monkeypatch.setattr(module, name, crashing)
    return state


def _nth(n: int):
    count = {"calls": 0}

    def when(*args, **kwargs):
        count["calls"] += 1
        return count["calls"] == n

    return when


@pytest.mark.parametrize(("store_backend", "step"), [
    ("fs", "chunk_stored"),  # stored, not yet acknowledged
    ("s3", "chunk_stored"),
    ("s3", "part_sent"),  # a part sent, its staging objects not yet deleted
    ("s3", "upload_recorded"),  # the multipart upload recorded, its part not yet sent
    ("s3", "parts_all_sent"),  # every part sent, the file not yet assembled
], indirect=["store_backend"])
def test_a_crash_between_any_two_steps_loses_no_byte(api, user, store_backend, step,
                                                     monkeypatch, request):
    data = big_archive(seed=11)
    if step == "chunk_stored":
        crash = _crash_once(monkeypatch, store, "save", before=False, when=_nth(6))
    elif step == "part_sent":
        crash = _crash_once(monkeypatch, parts, "drop_staged", before=True,
                            when=lambda layout: bool(layout.parts))
    elif step == "upload_recorded":
        crash = _crash_once(monkeypatch, parts, "send_part", before=True)
    else:
        crash = _crash_once(monkeypatch, multipart, "complete", before=True)
    url = create(api, len(data))["Location"]
    session = UploadSession.objects.get()
    position = 0
    with pytest.raises(Crash):
        while position < len(data):
            answer = patch(api, url, data[position:position + MiB], position)
            position = int(answer["Upload-Offset"])
    assert crash["crashed"]
    # The chunk the crashed PATCH carried was stored before the crash: it counts.
    crashed_end = min(position + MiB, len(data))
    another = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")
    offset = int(another.head(url, **TUS)["Upload-Offset"])
    assert offset == crashed_end
    if step == "part_sent":  # the part and the staging objects it holds, both there
        layout = parts.read(session)
        assert set(layout.parts) == {1} and layout.chunks[0][0] == 0
    if step == "upload_recorded":
        layout = parts.read(session)
        assert layout.upload_id and layout.parts == {}

    assert send_from(another, url, data, offset) == len(data)
    settle_and_clean()
    assert ingested_sha256(session) == hashlib.sha256(data).hexdigest()
    assert left_in_store(session, store_backend, request) == ([], [])


@pytest.mark.storage
@pytest.mark.parametrize("ending", ["terminated", "expired"])
def test_termination_and_expiry_leave_no_part_or_staging_object(api, store_backend, ending,
                                                                request):
    data = big_archive(seed=13)
    created = create(api, len(data))
    url = created["Location"]
    sent = 6 * MiB  # part 1 sent, 1 MiB staged
    assert send_from(api, url, data[:sent], 0) == sent
    session = UploadSession.objects.get()
    if store_backend == "s3":
        assert set(parts.read(session).parts) == {1}
        # A multipart upload a process created and died before recording.
        multipart.create(parts.whole(session))
        assert len(left_in_store(session, store_backend, request)[0]) == 2
    assert left_in_store(session, store_backend, request)[1]
    if ending == "terminated":
        assert api.delete(url, **TUS).status_code == 204
    else:
        # Expired (frozen time would reach the store's request signatures): moved back.
        past = clock.now() - timedelta(seconds=1) - sessions.EXPIRY_GRACE
        UploadSession.objects.filter(id=session.id).update(expires_at=past,
                                                           due_at=clock.now())
    sweep.sweep_once()
    sweep.sweep_once()
    session.refresh_from_db()
    assert session.status == UploadSession.Status.FAILED and not session.needs_work
    assert left_in_store(session, store_backend, request) == ([], [])


def test_an_upload_created_but_not_recorded_is_adopted(api, s3_store, request):
    data = big_archive(seed=17)
    url = create(api, len(data))["Location"]
    session = UploadSession.objects.get()
    stray = multipart.create(parts.whole(session))
    assert send_from(api, url, data[:5 * MiB], 0) == 5 * MiB
    session.refresh_from_db()
    assert session.multipart_id == stray
    assert [u["UploadId"] for u in left_in_store(session, "s3", request)[0]] == [stray]
    assert parts.read(session).chunks == []  # part 1 holds them: staging deleted


def test_the_offset_is_what_parts_and_staging_hold_together_from_byte_0():
    size = 12 * MiB
    part = multipart.Part(1, parts.PART_SIZE, "")
    # Two PATCHes raced at 5 MiB (a cut body stored late beside its resend): the longer
    # counts; a chunk past a gap does not.
    chunks = [(5 * MiB, MiB, "a"), (5 * MiB, 2 * MiB, "b"), (8 * MiB, MiB, "c")]
    layout = parts.Layout(size=size, chunks=chunks, parts={1: part})
    assert layout.offset == 7 * MiB
    assert layout.parts_reach == 5 * MiB
    assert layout.missing() == []  # part 2 needs bytes up to 10 MiB
    assert parts.Layout(size=size, chunks=chunks).offset == 0
    assert parts.Layout(size=size, assembled=True).offset == size


def test_parts_grow_past_the_stores_limit_of_10000():
    assert parts.part_count(6 * MiB) == 2 and parts.part_range(2, 6 * MiB) == (5 * MiB,
                                                                             6 * MiB)
    huge = 60 * 2**30
    assert parts.part_count(huge) <= parts.MAX_PARTS
    assert parts.part_range(parts.part_count(huge), huge)[1] == huge


def test_an_upload_aborted_under_a_live_session_starts_again_from_what_staging_holds(
        api, s3_store, request):
    data = big_archive(seed=19)
    url = create(api, len(data))["Location"]
    session = UploadSession.objects.get()
    assert send_from(api, url, data[:6 * MiB], 0) == 6 * MiB
    session.refresh_from_db()
    # A lifecycle rule (or an operator) aborts it: part 1 is gone, its staging too.
    multipart.abort(parts.whole(session), session.multipart_id)
    assert int(api.head(url, **TUS)["Upload-Offset"]) == 0  # never more than is stored
    assert send_from(api, url, data, 0) == len(data)
    settle_and_clean()
    assert ingested_sha256(session) == hashlib.sha256(data).hexdigest()
    assert left_in_store(session, "s3", request) == ([], [])
