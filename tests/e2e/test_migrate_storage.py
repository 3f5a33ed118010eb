"""migrate_storage --to s3: from a real filesystem store to a real S3 server (SeaweedFS),
resumable and idempotent, verified by SHA-256."""

from __future__ import annotations

import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from activities import storage, zips
from activities.models import Activity, Upload
from reconciler.derivation import kind as activity_kind
from reconciler.derivation.reconcile import reconcile_one
from tests import factories
from tests.conftest import use_object_store
from tests.seaweed import BUCKET
from work.models import Attempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def fs_store(settings, tmp_path):
    """A filesystem store of this test's own (the session's holds other tests' files)."""
    location = tmp_path / "files"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "activities.storage.DurableFileSystemStorage",
        "OPTIONS": {"location": location}}}
    return location


def _migrate(location) -> str:
    out = StringIO()
    call_command("migrate_storage", "--to", "s3", "--from-dir", str(location), stdout=out)
    return out.getvalue()


def test_every_original_and_archive_is_copied_once_and_read_from_the_store(
        upload, user, fs_store, settings, monkeypatch, weed, tmp_path):
    activities = [upload(factories.gpx(points=40 + i)).activity for i in range(4)]
    archive_path = tmp_path / "export.zip"
    archive_path.write_bytes(factories.archive([("a.gpx", factories.gpx(points=90))]))
    with open(archive_path, "rb") as handle:
        archive = zips.accept(handle, owner=user).upload
    names = [a.file_name for a in activities] + [archive.file_name]
    local = {n: (fs_store / n).read_bytes() for n in names}

    use_object_store(settings, monkeypatch, weed)  # the AWS_* settings; Cairn now on s3
    first = _migrate(fs_store)
    assert "5 copied, 0 already there" in first
    assert "files/s" in first
    client, prefix = weed.client(), settings.AWS_LOCATION
    for name, data in local.items():
        body = client.get_object(Bucket=BUCKET, Key=f"{prefix}/{name}")["Body"].read()
        assert hashlib.sha256(body).digest() == hashlib.sha256(data).digest()

    assert "0 copied, 5 already there" in _migrate(fs_store)

    # Interrupted half-way, or damaged: what is gone or different is copied again.
    client.delete_object(Bucket=BUCKET, Key=f"{prefix}/{names[0]}")
    client.put_object(Bucket=BUCKET, Key=f"{prefix}/{names[1]}", Body=b"not the original")
    assert "2 copied, 3 already there" in _migrate(fs_store)
    assert storage.read_original(names[0]) == local[names[0]]
    assert storage.read_original(names[1]) == local[names[1]]

    # Workers on s3 derive from the copies.
    claim = activity_kind.claim_one(activities[2].id, now=activities[2].due_at, owner="w-1")
    assert reconcile_one(claim, trigger=Attempt.Trigger.SWEEP) == Attempt.Outcome.CONVERGED


def test_a_file_neither_on_disk_nor_in_the_store_is_reported(
        upload, fs_store, settings, monkeypatch, weed):
    kept = upload(factories.gpx(points=50)).activity
    lost = upload(factories.gpx(points=51)).activity
    (fs_store / lost.file_name).unlink()
    use_object_store(settings, monkeypatch, weed)
    with pytest.raises(CommandError, match="1 of the files the database refers to"):
        _migrate(fs_store)
    assert storage.read_original(kept.file_name) == (fs_store / kept.file_name).read_bytes()
    assert Activity.objects.count() == 2 and Upload.objects.count() == 2
