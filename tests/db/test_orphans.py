"""Stored files without a committed row (the database failed between storing and
committing) are deleted by the sweep once older than the grace period; a file a row refers
to, or one about to be referred to, never is."""

import io
import os
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import OperationalError
from django.utils import timezone

from activities import acceptance, ingest, storage, zips
from activities.models import Activity, Archive, Upload
from reconciler.operations import orphans
from tests import factories

pytestmark = pytest.mark.django_db


def _database_gone(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def _fail_the_commit(monkeypatch) -> None:
    """The database goes away after the original is stored: at the rows' statement (a
    file, activities/acceptance.py) or at the archive's row (an archive)."""
    monkeypatch.setattr(acceptance, "accept", _database_gone)
    monkeypatch.setattr(Archive.objects, "create", _database_gone)


def _sweep_every_folder(*, now) -> int:
    """What the sweep does over a full pass: every folder of the store, once."""
    folders = [f"{root}/{name}" for root in orphans.ROOTS
               for name in orphans._listdir(root)[0]]
    return sum(orphans.collect_folder(folder, now=now) for folder in folders)


def _age(name: str, *, by: timedelta) -> None:
    stamp = (timezone.now() - by).timestamp()
    os.utime(default_storage.path(name), (stamp, stamp))


def test_files_stored_without_their_row_are_deleted_after_the_grace_period(user,
                                                                           monkeypatch):
    kept_activity = ingest.accept(factories.gpx(), owner=user).activity
    kept_archive = zips.accept(io.BytesIO(factories.archive([("a.gpx", factories.gpx())])),
                               owner=user).upload
    lost_file, lost_archive = factories.gpx(), factories.archive([("b.gpx", factories.gpx())])
    with monkeypatch.context() as patched:
        _fail_the_commit(patched)
        with pytest.raises(OperationalError):
            ingest.accept(lost_file, owner=user)
        with pytest.raises(OperationalError):
            zips.accept(io.BytesIO(lost_archive), owner=user)
    orphaned = {name for name in _stored() if name not in {kept_activity.file_name,
                                                           kept_archive.file_name}}
    orphaned &= {n for n in _stored() if not Activity.objects.filter(file_name=n).exists()
                 and not Upload.objects.filter(file_name=n).exists()}
    assert len(orphaned) >= 2  # the original and the archive of the failed uploads

    _sweep_every_folder(now=timezone.now())  # young: maybe still committing
    assert orphaned <= _stored()
    later = timezone.now() + storage.ORPHAN_GRACE + timedelta(minutes=1)
    assert _sweep_every_folder(now=later) >= 2
    left = _stored()
    assert not orphaned & left
    for row in (kept_activity, kept_archive):  # never a file a row refers to
        assert row.file_name in left


def test_an_old_orphan_taken_up_again_is_stored_afresh_and_kept(user):
    data = factories.gpx()
    first = ingest.accept(data, owner=user).activity
    name = first.file_name
    Upload.objects.all().delete()  # as if its row had never committed
    _age(name, by=storage.ORPHAN_GRACE * 2)
    # A new upload of the same content stores it again before its row commits: the sweep
    # running meanwhile sees a young file and leaves it.
    storage.save_original(data, name=name)
    _sweep_every_folder(now=timezone.now())
    assert default_storage.exists(name)
    again = ingest.accept(data, owner=user).activity
    assert again.file_name == name
    # (Other tests' files, whose rows were rolled back, are orphans by then.)
    _sweep_every_folder(now=timezone.now() + storage.ORPHAN_GRACE * 3)
    assert default_storage.exists(name)


def test_the_sweep_looks_at_one_folder_a_step(user):
    ingest.accept(factories.gpx(), owner=user)
    orphans.CURSOR.reset()
    try:
        later = timezone.now() + storage.ORPHAN_GRACE * 2
        orphans.collect(now=later)
        assert orphans.CURSOR.folder == 1
        orphans.collect(now=later)  # within EVERY_S: nothing
        assert orphans.CURSOR.folder == 1
    finally:
        orphans.CURSOR.reset()


def _stored() -> set[str]:
    return {f"{root}/{folder}/{name}" for root in orphans.ROOTS
            for folder in orphans._listdir(root)[0]
            for name in default_storage.listdir(f"{root}/{folder}")[1]}
