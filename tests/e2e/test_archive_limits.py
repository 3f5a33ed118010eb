"""Archives refused at the door before they cost anything: Idempotency-Keys checked before
storing, central directories counted before zipfile lists them, entries that share bytes,
and archives that inflate too far."""

import io
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from activities import ingest, zips
from activities.models import Upload
from tests import factories, zipcraft
from tests.e2e.test_archives import export

pytestmark = pytest.mark.django_db


def post(api, data: bytes, *, key: str | None = None, name: str = "export.zip"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.post("/api/v1/uploads", {"file": SimpleUploadedFile(name, data)}, **headers)


def stored_archives() -> list[str]:
    try:
        prefixes = default_storage.listdir("archives")[0]
    except FileNotFoundError:
        return []
    return sorted(name for prefix in prefixes
                  for name in default_storage.listdir(f"archives/{prefix}")[1])


def test_an_overlong_key_with_an_archive_is_a_400_and_nothing_is_stored(api):
    before = stored_archives()  # the store is shared by the tests of a session
    response = post(api, export(2), key="k" * 300)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadIdempotencyKey"
    assert stored_archives() == before and not Upload.objects.exists()


@pytest.mark.parametrize("first", ["file", "archive"])
def test_a_key_reused_with_another_archive_is_a_422_and_nothing_is_stored(api, first):
    earlier = factories.gpx() if first == "file" else export(2, seed=1)
    assert post(api, earlier, key="key-1", name=f"first.{first}").status_code == 202
    before = stored_archives()
    response = post(api, export(2, seed=2), key="key-1")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "IdempotencyKeyReused"
    assert stored_archives() == before
    assert Upload.objects.count() == 1


def test_a_key_repeated_with_the_same_archive_replays_the_first_answer(api):
    data = export(2, seed=3)
    before = stored_archives()
    first = post(api, data, key="key-2")
    again = post(api, data, key="key-2")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["duplicate"] is False  # a replay, not a duplicate upload
    assert Upload.objects.count() == 1 and len(stored_archives()) == len(before) + 1


def _accept_measured(data: bytes, user):
    """zips.accept on an uploaded temporary file, as the web process runs it: (error,
    seconds, peak bytes allocated)."""
    handle = io.BytesIO(data)
    tracemalloc.start()
    started = time.monotonic()
    try:
        with pytest.raises(ingest.Rejected) as refused:
            zips.accept(handle, owner=user)
        return refused.value, time.monotonic() - started, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("declared", [None, 1], ids=["honest-end-record", "lying-end-record"])
def test_a_huge_central_directory_is_refused_before_it_is_listed(user, settings, declared):
    # 300,000 entries (16 MB of directory, a ZIP64 end record): zipfile would build an
    # object per entry (over 100 MB) before anyone counted them. The bounds are generous:
    # refusing must cost about what reading 1,000 entries costs, whatever the end record says.
    settings.CAIRN_ARCHIVE_MAX_MEMBERS = 1000
    data = zipcraft.directory_only(300_000, declared=declared)
    before = stored_archives()
    error, seconds, peak = _accept_measured(data, user)
    assert (error.status, error.code) == (413, "TooManyFiles")
    assert peak < 8 << 20, f"peak {peak >> 20} MB"
    assert seconds < 5
    assert stored_archives() == before


def test_entries_sharing_one_members_bytes_are_refused_at_the_door(api):
    # The finding's shape, smaller: each entry inflates 30-odd times (under the ratio
    # limit), but 1,000 entries point at the same compressed bytes.
    member = factories.gpx(points=3000)
    data = zipcraft.overlapping(member, times=1000)
    before = stored_archives()
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:  # zipfile itself lists them all
        assert len(zipped.infolist()) == 1000
    response = post(api, data)
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "BadArchive" and "share bytes" in body["message"]
    assert stored_archives() == before and not Upload.objects.exists()


def test_an_archive_inflating_past_the_total_limit_is_refused(api, settings):
    settings.CAIRN_ARCHIVE_MAX_INFLATED_MB = 1
    members = [(f"activities/{i}.gpx", factories.gpx(points=3000)) for i in range(3)]
    assert sum(len(data) for _, data in members) > 1 << 20  # each is fine on its own
    before = stored_archives()
    response = post(api, factories.archive(members))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "TooLarge"
    assert stored_archives() == before and not Upload.objects.exists()
    settings.CAIRN_ARCHIVE_MAX_INFLATED_MB = 10
    assert post(api, factories.archive(members)).status_code == 202
