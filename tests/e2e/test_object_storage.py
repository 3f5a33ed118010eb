"""Originals in a real S3 server (SeaweedFS): verified PUTs, content stored once, and the
store's faults provoked for real: stopped during an upload, stopped while a worker reads,
an object deleted behind Cairn's back."""

from __future__ import annotations

import base64
import hashlib
import time
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from prometheus_client import REGISTRY

from activities import storage, zips
from activities.expansion import kind as archive_kind
from activities.models import Activity, Archive, Upload
from core.errors import DeriveError
from reconciler import sweep
from reconciler.derivation import kind as activity_kind
from reconciler.derivation.reconcile import reconcile_one
from reconciler.models import PreviewSample, ShadowOutput
from reconciler.operations import orphans
from tests import factories, seaweed
from tests.bumps import bump
from tests.conftest import use_object_store
from tests.seaweed import BUCKET
from work import leases as work_leases
from work.models import Attempt

pytestmark = pytest.mark.django_db


def _key(name: str) -> str:
    return f"{default_storage.location}/{name}"


def _store_errors() -> float:
    """This process's cairn_object_store_errors_total, every reason."""
    return sum(sample.value for metric in REGISTRY.collect()
               if metric.name == "cairn_object_store_errors" for sample in metric.samples
               if sample.name.endswith("_total"))


def test_an_original_is_stored_with_its_checksum_and_read_back(s3_store):
    data = factories.gpx(points=30)
    name = f"originals/{hashlib.sha256(data).hexdigest()}.gpx"
    storage.save_original(data, name=name)
    head = s3_store.client().head_object(Bucket=BUCKET, Key=_key(name), ChecksumMode="ENABLED")
    assert head["ContentLength"] == len(data)
    assert head["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert storage.read_original(name) == data


def test_a_new_original_is_one_put_and_one_other_call(s3_store):
    """The look for it, then the PUT, whose answer confirms the bytes: no HEAD after it."""
    calls = []

    def count(model, **_):
        calls.append(model.name)

    client = default_storage.connection.meta.client
    client.meta.events.register("before-call.s3", count)
    try:
        data = factories.gpx(points=29)
        storage.save_original(data, name=f"originals/{hashlib.sha256(data).hexdigest()}.gpx")
    finally:
        client.meta.events.unregister("before-call.s3", count)
    assert calls == ["HeadObject", "PutObject"]
    assert storage.read_original(f"originals/{hashlib.sha256(data).hexdigest()}.gpx") == data


def test_the_same_content_is_stored_once(s3_store):
    data = factories.gpx(points=31)
    name = f"originals/{hashlib.sha256(data).hexdigest()}.gpx"
    storage.save_original(data, name=name)
    # Change the object behind Cairn's back: a second save that PUT again would undo it.
    s3_store.client().put_object(Bucket=BUCKET, Key=_key(name), Body=b"marker")
    storage.save_original(data, name=name)
    assert storage.read_original(name) == b"marker"


def test_a_missing_object_is_a_permanent_failure(s3_store):
    with pytest.raises(DeriveError) as raised:
        storage.read_original("originals/00/nothing-here.gpx")
    assert raised.value.permanent
    assert raised.value.code == "OriginalMissing"


def test_a_missing_bucket_is_not_taken_for_a_missing_object(s3_store, settings):
    settings.AWS_STORAGE_BUCKET_NAME = "no-such-bucket"
    settings.STORAGES = {**settings.STORAGES}  # a new storage object with the new bucket
    with pytest.raises(DeriveError) as raised:
        storage.read_original("originals/00/nothing-here.gpx")
    assert not raised.value.permanent
    assert raised.value.code == "StorageUnavailable"


@pytest.mark.storage
def test_an_upload_lands_in_the_configured_store(api, store_backend, tmp_path_factory):
    data = factories.gpx(points=32)
    response = api.post("/api/v1/uploads", {"file": _named(data, "ride.gpx")})
    assert response.status_code == 202
    activity = Activity.objects.get()
    assert default_storage.exists(activity.file_name)
    on_disk = tmp_path_factory.getbasetemp() / "files" / activity.file_name
    assert on_disk.exists() == (store_backend == "fs")


# --- faults, on a server of their own (stopping the session's would disturb other tests) --


@pytest.fixture(scope="module")
def own_weed(tmp_path_factory):
    yield from seaweed.fixture(tmp_path_factory, "weed-faults")


@pytest.fixture
def faulty_store(settings, monkeypatch, own_weed):
    use_object_store(settings, monkeypatch, own_weed)
    yield own_weed
    if own_weed.process is None:
        own_weed.start()  # a failed test must not leave the next one without a store


def _named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_upload_while_the_store_is_down_is_refused_and_the_retry_succeeds(api, faulty_store):
    data = factories.gpx(points=33)
    faulty_store.stop()
    failed_before = _store_errors()
    response = api.post("/api/v1/uploads", {"file": _named(data, "ride.gpx")},
                        HTTP_IDEMPOTENCY_KEY="key-1")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "StorageUnavailable"
    assert _store_errors() > failed_before  # what CairnObjectStoreUnavailable reads
    assert int(response["Retry-After"]) > 0
    assert not Upload.objects.exists()
    assert not Activity.objects.exists()

    faulty_store.start()
    first = api.post("/api/v1/uploads", {"file": _named(data, "ride.gpx")},
                     HTTP_IDEMPOTENCY_KEY="key-1")
    again = api.post("/api/v1/uploads", {"file": _named(data, "ride.gpx")},
                     HTTP_IDEMPOTENCY_KEY="key-1")
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["id"] == again.json()["id"]
    assert Upload.objects.count() == 1
    activity = Activity.objects.get()
    assert storage.read_original(activity.file_name) == data


# Real time in these: S3 refuses requests signed at a frozen clock's date.


def test_a_worker_reading_while_the_store_is_down_waits_and_then_converges(
        upload, faulty_store, settings):
    # The store away is a wait, never a counted failure: however many times the worker
    # finds it down (more than CAIRN_MAX_ATTEMPTS here), the activity is neither dead nor
    # failed, and it converges once the store is back. (It was a transient failure,
    # retried with backoff and dead after the maximum, before the work kernel.)
    settings.CAIRN_BACKOFF_BASE_S = settings.CAIRN_BACKOFF_CAP_S = 1
    settings.CAIRN_MAX_ATTEMPTS = 2
    activity = upload(factories.gpx(points=34)).activity
    faulty_store.stop()
    for _ in range(3):
        claim = activity_kind.claim_one(activity.id, now=timezone.now(), owner="w-1")
        assert claim is not None
        assert reconcile_one(claim, trigger=Attempt.Trigger.SWEEP) == Attempt.Outcome.WAITING
        activity.refresh_from_db()
        assert activity.status == Activity.Status.QUEUED
        assert activity.needs_work
        assert activity.error_code == "StorageUnavailable"
        assert activity.attempts == 0  # not counted
        time.sleep(1.1)  # the wait (a second here) has passed
    attempt = Attempt.objects.filter(kind="activity", row_id=activity.id).latest("id")
    assert (attempt.outcome, attempt.error_code) == ("waiting", "StorageUnavailable")

    faulty_store.start()
    claim = activity_kind.claim_one(activity.id, now=timezone.now(), owner="w-1")
    assert claim is not None
    assert reconcile_one(claim, trigger=Attempt.Trigger.SWEEP) == Attempt.Outcome.CONVERGED
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    assert activity.error_code == ""


def test_a_preview_sample_waits_while_the_store_is_down(upload, faulty_store, monkeypatch,
                                                       settings):
    settings.CAIRN_BACKOFF_BASE_S = 1
    settings.CAIRN_MAX_ATTEMPTS = 1
    upload(factories.gpx(points=36))
    sweep.drain()
    bump(monkeypatch, "track")  # track's preview reads the original
    faulty_store.stop()
    for _ in range(2):  # more rounds than CAIRN_MAX_ATTEMPTS: a wait is never counted
        sweep.sweep_once()
        sample = PreviewSample.objects.get()
        assert sample.computed_at is None and sample.needs_work
        assert sample.attempts == 0
        time.sleep(1.1)
    assert set(Attempt.objects.filter(kind="preview").values_list(
        "outcome", "error_code")) == {("waiting", "StorageUnavailable")}
    assert not ShadowOutput.objects.exists()

    faulty_store.start()
    sweep.sweep_once()
    sample.refresh_from_db()
    assert sample.computed_at is not None and not sample.needs_work
    assert set(ShadowOutput.objects.values_list("status", flat=True)) == {"ready"}


def test_an_original_deleted_behind_cairns_back_fails_with_a_sentence(upload, faulty_store):
    activity = upload(factories.gpx(points=35)).activity
    faulty_store.client().delete_object(Bucket=BUCKET, Key=_key(activity.file_name))
    claim = activity_kind.claim_one(activity.id, now=timezone.now(), owner="w-1")
    assert reconcile_one(claim, trigger=Attempt.Trigger.SWEEP) == Attempt.Outcome.FAILED
    activity.refresh_from_db()
    assert activity.status == Activity.Status.FAILED
    assert activity.error_code == "OriginalMissing"
    assert "missing from storage" in activity.error_message


def test_an_archive_is_read_through_a_temporary_file_not_memory(s3_store, settings):
    settings.AWS_S3_MAX_MEMORY_SIZE = 8 * 1024
    settings.STORAGES = {**settings.STORAGES}  # a storage object that reads the new limit
    members = [(f"ride-{i}.gpx", factories.gpx(points=200, seed=i)) for i in range(8)]
    data = factories.archive(members)
    assert len(data) > 8 * 1024
    name = f"archives/{hashlib.sha256(data).hexdigest()}.zip"
    default_storage.save(name, ContentFile(data))
    with default_storage.open(name, "rb") as handle:
        assert handle.file._rolled  # spilled to a temporary file past the limit
        with zipfile.ZipFile(handle) as zipped:
            assert [zipped.read(n) for n, _ in members] == [d for _, d in members]


def test_housekeeping_can_list_date_and_delete_stored_files(s3_store):
    """What a clean-up of unreferenced files uses: listdir, get_modified_time, delete."""
    names = [f"originals/ab/ab{i}.gpx" for i in range(3)]
    for name in names:
        default_storage.save(name, ContentFile(f"file {name}".encode()))
    assert default_storage.listdir("originals") == (["ab"], [])
    assert sorted(default_storage.listdir("originals/ab")[1]) == ["ab0.gpx", "ab1.gpx", "ab2.gpx"]
    modified = default_storage.get_modified_time(names[0])
    assert modified.tzinfo is not None
    assert abs((timezone.now() - modified).total_seconds()) < 300
    default_storage.delete(names[0])
    default_storage.delete(names[0])  # already gone: not an error
    assert not default_storage.exists(names[0])
    assert sorted(default_storage.listdir("originals/ab")[1]) == ["ab1.gpx", "ab2.gpx"]


def test_archives_and_housekeeping_wait_while_the_store_is_down(user, faulty_store, tmp_path,
                                                               settings):
    members = [("a.gpx", factories.gpx(points=36)), ("b.gpx", factories.gpx(points=37))]
    path = tmp_path / "export.zip"
    path.write_bytes(factories.archive(members))
    with open(path, "rb") as handle:
        archive = zips.accept(handle, owner=user).upload.archive
    faulty_store.stop()
    assert orphans.collect(now=timezone.now(), force=True) == 0  # skipped, not raised
    # The store away is a wait (not a failure, no attempt spent), however many times
    # the archive is looked at: more than its maximum attempts here.
    for _ in range(settings.CAIRN_MAX_ATTEMPTS + 2):
        Archive.objects.filter(id=archive.id).update(due_at=timezone.now())
        claim = work_leases.claim(archive_kind.KIND, limit=1, now=timezone.now(),
                                  owner="w-1", trigger="sweep")[0]
        assert archive_kind.expand(claim) == "waiting"
        archive.refresh_from_db()
        assert archive.needs_work and not archive.error_code and archive.attempts == 0
    assert archive.due_at > timezone.now()  # looked at again later

    faulty_store.start()
    archive.due_at = timezone.now()
    archive.save(update_fields=["due_at"])
    claim = work_leases.claim(archive_kind.KIND, limit=1, now=timezone.now(),
                              owner="w-1", trigger="sweep")[0]
    assert archive_kind.expand(claim) == "converged"
    assert Activity.objects.filter(upload=archive.upload).count() == 2


def test_readiness_says_when_the_store_is_away(client, faulty_store):
    assert client.get("/readyz").status_code == 200
    faulty_store.stop()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["reason"].startswith("storage:")
    faulty_store.start()
    assert client.get("/readyz").status_code == 200


def test_an_import_while_the_store_is_down_stops_with_a_sentence(user, faulty_store, tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "ride.gpx"
    path.write_bytes(factories.gpx(points=38))
    faulty_store.stop()
    with pytest.raises(CommandError, match="store of originals is unavailable"):
        call_command("import_activities", str(path), owner=user.username)
    assert not Activity.objects.exists()

    faulty_store.start()
    call_command("import_activities", str(path), owner=user.username)
    assert Activity.objects.count() == 1
