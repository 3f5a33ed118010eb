"""The `storage` marker keeps its promise: each run of a marked test stores its originals in
the store it is named after, whether or not the test names the store_backend fixture (its
[s3] run once ran on the filesystem, and so proved nothing about S3)."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from activities import storage
from activities.objectstore import VerifiedS3Storage
from activities.storage import DurableFileSystemStorage
from tests.seaweed import BUCKET

BACKENDS = {"fs": DurableFileSystemStorage, "s3": VerifiedS3Storage}


@pytest.mark.storage
def test_a_marked_test_that_does_not_name_its_store_runs_on_it(request, settings,
                                                               tmp_path_factory):
    store = request.node.callspec.params["store_backend"]
    assert settings.CAIRN_STORAGE == store
    assert isinstance(default_storage, BACKENDS[store])
    name = f"originals/marker-{request.node.callspec.id}.gpx"
    storage.save_original(b"<gpx/>", name=name)
    # Where the original landed, seen from outside Cairn: on disk, or in the bucket.
    on_disk = tmp_path_factory.getbasetemp() / "files" / name
    assert on_disk.exists() == (store == "fs")
    if store == "s3":
        key = f"{default_storage.location}/{name}"
        head = request.getfixturevalue("weed").client().head_object(Bucket=BUCKET, Key=key)
        assert head["ContentLength"] == len(b"<gpx/>")
