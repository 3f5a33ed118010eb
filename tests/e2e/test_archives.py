"""Zip archives (account exports): one activity per activity file, every file accounted
for, resumable, idempotent, and safe against bombs, traversal and nesting."""

import gzip
import io
import json
import zipfile
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from freezegun import freeze_time

from activities import zips
from activities.expansion import expand
from activities.expansion import kind as archive_kind
from activities.models import Activity, Archive, ArchiveMember, Upload
from reconciler import sweep
from tests import factories, fitwriter
from tests.conftest import NOW
from work import leases as work_leases

pytestmark = [pytest.mark.django_db, pytest.mark.storage]


def export(count: int = 4, *, seed: int = 0) -> bytes:
    """Like a Strava account export: activities/ with .fit, .fit.gz, .gpx, .gpx.gz among
    other files."""
    members = [("activities.csv", b"Activity ID,Activity Date\n1,2026\n"),
               ("profile.json", b'{"name": "alice"}'),
               ("media/photo.jpg", b"\xff\xd8\xff\xe0 not really a photo")]
    for index in range(count):
        unique = 900 + seed * 1000 + index
        if index % 4 == 0:
            members.append((f"activities/{index}.fit", factories.fit(points=300, seed=unique)))
        elif index % 4 == 1:
            members.append((f"activities/{index}.fit.gz",
                            gzip.compress(factories.fit(points=300, seed=unique))))
        elif index % 4 == 2:
            members.append((f"activities/{index}.gpx", factories.gpx(points=80, seed=unique)))
        else:
            members.append((f"activities/{index}.gpx.gz",
                            gzip.compress(factories.gpx(points=80, seed=unique))))
    return factories.archive(members, folders=("activities/", "media/"))


def post(api, data: bytes, name: str = "export.zip"):
    return api.post("/api/v1/uploads", {"file": SimpleUploadedFile(name, data)})


def files(api, upload_id: int) -> dict[str, dict]:
    body = api.get(f"/api/v1/uploads/{upload_id}/files?limit=1000").json()
    return {f["name"]: f for f in body["files"]}


def test_export_becomes_one_activity_per_activity_file_and_accounts_for_the_rest(api):
    with freeze_time(NOW):
        response = post(api, export(8))
        assert response.status_code == 202
        body = response.json()
        assert body["kind"] == "archive"
        assert body["status"] == "queued"
        assert body["progress"]["files"] == 11
        sweep.drain()
    outcome = files(api, body["id"])
    assert len(outcome) == 11
    imported = {n: f for n, f in outcome.items() if f["status"] == "imported"}
    assert set(imported) == {f"activities/{i}{ext}" for i, ext in enumerate(
        [".fit", ".fit.gz", ".gpx", ".gpx.gz"] * 2)}
    for name in ("activities.csv", "profile.json", "media/photo.jpg"):
        assert outcome[name]["status"] == "skipped"
        assert outcome[name]["error"] == "Not a FIT, GPX or TCX file."
    assert set(Activity.objects.values_list("status", flat=True)) == {"ready"}
    progress = api.get(f"/api/v1/uploads/{body['id']}").json()
    assert progress["status"] == "ready"
    assert progress["progress"] == {"files": 11, "seen": 11, "imported": 8, "duplicate": 0,
                                    "failed": 0, "skipped": 3, "missing": 0}


def test_archive_imported_twice_creates_no_duplicates(api):
    data = export(6)
    with freeze_time(NOW):
        first = post(api, data).json()
        sweep.drain()
        again = post(api, data).json()
        sweep.drain()
    assert again["id"] == first["id"]
    assert again["duplicate"] is True
    assert Activity.objects.count() == 6
    # Another export that overlaps: the shared files are duplicates of the activities.
    members = [(name, data) for name, data in _members(data) if name.endswith(".gpx")]
    members.append(("activities/new.gpx", factories.gpx(seed=77)))
    with freeze_time(NOW):
        other = post(api, factories.archive(members)).json()
        sweep.drain()
    outcome = files(api, other["id"])
    assert outcome["activities/2.gpx"]["status"] == "duplicate"
    assert outcome["activities/2.gpx"]["duplicate_of"] == files(
        api, first["id"])["activities/2.gpx"]["activity_id"]
    assert outcome["activities/new.gpx"]["status"] == "imported"
    assert Activity.objects.count() == 7


def _members(data: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        return [(i.filename, zipped.read(i)) for i in zipped.infolist() if not i.is_dir()]


def test_hostile_members_are_refused_and_reported(api, settings):
    settings.CAIRN_ARCHIVE_MAX_RATIO = 50
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr("../../etc/cron.d/evil.gpx", factories.gpx(seed=1))
        zipped.writestr("/absolute/path.gpx", factories.gpx(seed=2))
        zipped.writestr("bomb.gpx", b"<gpx>" + b" " * (20 << 20))  # 20 MB of spaces
        zipped.writestr("inner.zip", factories.archive([("a.gpx", factories.gpx(seed=3))]))
        zipped.writestr("settings.fit", fitwriter.activity({}, file_type="settings"))
        zipped.writestr("fine.gpx", factories.gpx(seed=4))
    with freeze_time(NOW):
        body = post(api, buffer.getvalue()).json()
        sweep.drain()
    outcome = {name: (f["status"], f["error_code"]) for name, f in files(api, body["id"]).items()}
    assert outcome == {
        "../../etc/cron.d/evil.gpx": ("failed", "UnsafeName"),
        "/absolute/path.gpx": ("failed", "UnsafeName"),
        "bomb.gpx": ("failed", "ZipBomb"),
        "inner.zip/a.gpx": ("imported", None),  # one level of nesting is expanded
        "settings.fit": ("skipped", "NotAnActivity"),
        "fine.gpx": ("imported", None),
    }
    assert Activity.objects.count() == 2


def test_damaged_or_oversized_archives_are_refused_at_the_door(api, settings):
    response = post(api, b"PK\x03\x04" + b"\0" * 100)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "BadArchive"
    settings.CAIRN_ARCHIVE_MAX_MEMBERS = 5
    response = post(api, export(6))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "TooManyFiles"
    assert not Upload.objects.exists()


def test_expansion_resumes_where_it_stopped(api, user):
    with freeze_time(NOW):
        body = post(api, export(12)).json()
    archive = Archive.objects.get(upload_id=body["id"])
    # A worker expands a few members, then dies: its lease runs out.
    with freeze_time(NOW), zipfile.ZipFile(io.BytesIO(export(12))) as zipped:
        claim = work_leases.claim_one(archive_kind.KIND, archive.id, now=NOW,
                                      owner="doomed", trigger="sweep")
        members = [i for i in zipped.infolist() if not i.is_dir()]
        for index in range(5):
            expand._record(claim, archive, index, members[index],
                           expand.judge(zipped, members[index]))
    progress = api.get(f"/api/v1/uploads/{body['id']}").json()
    assert progress["status"] == "processing"
    assert progress["progress"]["seen"] == 5
    later = NOW.replace(hour=13)
    with freeze_time(later):
        sweep.drain()
    archive.refresh_from_db()
    assert archive.expanded_at == later
    assert ArchiveMember.objects.filter(archive=archive).count() == 15
    assert sorted(ArchiveMember.objects.values_list("index", flat=True)) == list(range(15))
    assert Activity.objects.count() == 12


def test_import_command_prints_a_line_per_archive_member(user, tmp_path):
    path = tmp_path / "export.zip"
    path.write_bytes(export(4))
    out = StringIO()
    call_command("import_activities", str(path), "--owner", "alice", "--wait", stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(lines) == 7
    by_file = {line["file"]: line for line in lines}
    assert by_file[f"{path}!activities/0.fit"]["status"] == "ready"
    assert by_file[f"{path}!activities/0.fit"]["summary"]["point_count"] == 300
    assert by_file[f"{path}!activities.csv"]["status"] == "skipped"
    assert all(set(line) == {"file", "upload_id", "activity_id", "status", "error",
                             "duplicate_of", "summary"} for line in lines)


def test_is_zip_leaves_the_stream_where_it_was():
    stream = io.BytesIO(export(1))
    stream.read(10)
    assert zips.is_zip(io.BytesIO(export(1)))
    assert stream.tell() == 10


def test_an_archive_uploaded_again_after_a_delete_brings_the_deleted_activity_back(api, user):
    data = export(4)
    with freeze_time(NOW):
        first = post(api, data).json()
        sweep.drain()
    kept, gone = Activity.objects.order_by("id")[:2]
    with freeze_time(NOW):
        assert api.delete(f"/api/v1/activities/{gone.id}").status_code == 204
        sweep.drain()  # the deletion finishes: the activity row is removed
    assert not Activity.objects.filter(id=gone.id).exists()
    with freeze_time(NOW):
        again = post(api, data).json()
        sweep.drain()
    assert again["id"] != first["id"] and again["duplicate"] is False
    outcome = files(api, again["id"])
    statuses = sorted(f["status"] for n, f in outcome.items() if n.startswith("activities/"))
    assert statuses == ["duplicate", "duplicate", "duplicate", "imported"]
    live = Activity.objects.live().filter(owner=user)
    assert live.count() == 4 and live.filter(id=kept.id).exists()
    # The old upload made way (one live upload per content); a third time imports nothing.
    assert Upload.objects.get(id=first["id"]).deleted_at is not None
    with freeze_time(NOW):
        third = post(api, data).json()
    assert third["id"] == again["id"] and third["duplicate"] is True


def test_an_archive_whose_activity_is_still_being_deleted_imports_it_again(api, user):
    data = export(2, seed=5)
    with freeze_time(NOW):
        post(api, data)
        sweep.drain()
    gone = Activity.objects.order_by("id").first()
    with freeze_time(NOW):
        api.delete(f"/api/v1/activities/{gone.id}")  # no sweep: the row is still there
        again = post(api, data).json()
        sweep.drain()
    assert again["duplicate"] is False
    assert Activity.objects.live().filter(owner=user).count() == 2
