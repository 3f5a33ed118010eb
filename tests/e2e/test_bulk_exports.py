"""Bulk exports: the API (owner-only, bad input, one at a time, 409 before ready), the
zip the sweep builds (each activity once, the CSV, originals byte for byte, regenerated
files that decode), resuming from a checkpoint, expiry and deletion."""

from __future__ import annotations

import csv
import gzip
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from freezegun import freeze_time

from activities import deletion, tokens
from activities.models import Activity
from core import decode
from exports import build, staging
from exports import kind as export_kind
from exports.models import Export
from reconciler import sweep
from tests import factories
from tests.conftest import NOW
from work import leases
from work.models import Attempt

pytestmark = pytest.mark.django_db


def _ready(upload, count, *, at=NOW, **gpx):
    with freeze_time(at):
        made = [upload(factories.gpx(points=30, seed=700 + n, **gpx)).activity.id
                for n in range(count)]
        sweep.drain()
    return made


def _delete(api, export_id):
    with freeze_time(NOW):
        return api.delete(f"/api/v1/exports/{export_id}")


def _ask(api, **body):
    with freeze_time(NOW):
        response = api.post("/api/v1/exports", body, content_type="application/json")
    assert response.status_code == 202, response.content
    return response.json()


def _built(api, export_id, *, at=NOW):
    with freeze_time(at):
        sweep.drain()
    return api.get(f"/api/v1/exports/{export_id}").json()


def _zip(api, export_id) -> zipfile.ZipFile:
    response = api.get(f"/api/v1/exports/{export_id}/download")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith('attachment; filename="cairn-export-')
    zipped = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert zipped.testzip() is None
    return zipped


def _rows(zipped) -> list[dict]:
    return list(csv.DictReader(io.StringIO(zipped.read("activities.csv").decode())))


# -- the API -----------------------------------------------------------------------------

@pytest.mark.parametrize("body,said", [
    (b"not json", "Send JSON"),
    (b"[1, 2]", "Send JSON"),
    (b'{"contents": "everything"}', '"contents" must be'),
    (b'{"contents": "files", "format": "kml"}', '"format" must be'),
    (b'{"contents": "files", "colour": "red"}', "Unknown field(s): colour"),
])
def test_bad_input_is_a_400_with_a_message(api, body, said):
    response = api.post("/api/v1/exports", body, content_type="application/json")
    assert response.status_code == 400
    assert said in response.json()["error"]["message"]
    assert not Export.objects.exists()


def test_an_export_answers_202_pending_and_a_second_while_it_builds_is_a_409_naming_it(
        api, upload):
    _ready(upload, 2)
    with freeze_time(NOW):
        first = _ask(api, contents="both", format="tcx")
    assert first["status"] == "pending" and first["progress"] == {"done": 0, "total": 2}
    assert first["download_url"] is None and first["size_bytes"] is None
    assert first["created_at"] == "2026-01-15T12:00:00Z" and first["expires_at"] is None
    again = api.post("/api/v1/exports", {"contents": "files"},
                     content_type="application/json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "ExportInProgress"
    assert again.json()["error"]["export_id"] == first["id"]
    assert api.get("/api/v1/exports").json()["exports"] == [first]
    early = api.get(f"/api/v1/exports/{first['id']}/download")
    assert early.status_code == 409 and "once its status is ready" in \
        early.json()["error"]["message"]


def test_another_users_export_is_not_found(api, upload, other_user):
    _ready(upload, 1)
    mine = _ask(api, contents="originals")
    _built(api, mine["id"])
    theirs = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    for url in (f"/api/v1/exports/{mine['id']}", f"/api/v1/exports/{mine['id']}/download"):
        assert theirs.get(url).status_code == 404
    assert theirs.delete(f"/api/v1/exports/{mine['id']}").status_code == 404
    assert theirs.get("/api/v1/exports").json() == {"exports": []}
    assert Client().get(f"/api/v1/exports/{mine['id']}").status_code == 401
    assert api.get(f"/api/v1/exports/{mine['id']}").json()["status"] == "ready"


def test_a_user_keeps_at_most_the_exports_allowed(api, upload, settings):
    settings.CAIRN_EXPORTS_PER_USER = 2
    _ready(upload, 1)
    for _ in range(2):
        _built(api, _ask(api, contents="originals")["id"])
    refused = api.post("/api/v1/exports", {}, content_type="application/json")
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "TooManyExports"


# -- the zip -----------------------------------------------------------------------------

@pytest.mark.storage
@pytest.mark.parametrize("fmt", ["gpx", "fit"])
def test_the_zip_holds_each_activity_once_with_its_original_and_its_file(
        api, upload, user, fmt):
    made = _ready(upload, 5)
    uploaded = {activity_id: factories.gpx(points=30, seed=700 + n)
                for n, activity_id in enumerate(made)}
    Activity.objects.filter(id=made[0]).update(name="Morning run, über Hügel")
    gzipped = gzip.compress(factories.gpx(points=30, seed=900))
    with freeze_time(NOW):
        made.append(upload(gzipped).activity.id)
        sweep.drain()
    deleted = made.pop(1)
    with freeze_time(NOW):
        deletion.request(Activity.objects.filter(id=deleted), now=NOW)
        # Not processed yet: listed, with its original, without a regenerated file.
        waiting = upload(factories.gpx(points=30, seed=901)).activity.id
        made.append(waiting)
        export = _ask(api, contents="both", format=fmt)
        later = upload(factories.gpx(points=30, seed=902)).activity.id  # after the ask
    with freeze_time(NOW):
        leased = leases.claim(export_kind.KIND, limit=1, now=NOW, owner="t",
                              trigger="sweep")
        assert export_kind.run_one(leased[0]) == "converged"
    shown = _built(api, export["id"])
    assert shown["status"] == "ready" and shown["progress"] == {"done": 6, "total": 6}
    assert shown["download_url"] == f"/api/v1/exports/{export['id']}/download"
    assert shown["expires_at"] == "2026-01-22T12:00:00Z"

    zipped = _zip(api, export["id"])
    assert shown["size_bytes"] > 0
    rows = _rows(zipped)
    assert [int(row["id"]) for row in rows] == made  # once each, by id; not the deleted
    assert deleted not in made and later not in [int(row["id"]) for row in rows]
    names = zipped.namelist()
    assert len(names) == len(set(names)) == 1 + len(made) + len(made) - 1
    by_id = {int(row["id"]): row for row in rows}
    assert by_id[made[0]]["original_file"] == f"originals/{made[0]}-morning-run-uber-hugel.gpx"
    assert by_id[made[0]]["name"] == "Morning run, über Hügel"
    for activity in Activity.objects.filter(id__in=made):
        row = by_id[activity.id]
        original = zipped.read(row["original_file"])
        assert original == default_storage.open(activity.file_name).read()
        if activity.id in uploaded:
            assert original == uploaded[activity.id]  # byte for byte
        if activity.id == waiting:
            assert row["file"] == "" and "not ready" in row["note"]
            continue
        assert row["file"] == f"files/{row['original_file'][10:].split('.')[0]}.{fmt}"
        track = decode.decode(zipped.read(row["file"]), fmt)
        assert track.n == 30
        assert float(row["distance_m"]) > 0 and row["start_time"].startswith("20")
    # A gzipped upload is kept gzipped (Cairn writes its own gzip header): the same file.
    gz_name = by_id[made[-2]]["original_file"]
    assert gzip.decompress(zipped.read(gz_name)) == gzip.decompress(gzipped)
    assert zipped.read(gz_name) == api.get(f"/api/v1/activities/{made[-2]}/original").content
    assert by_id[made[-2]]["original_file"].endswith(".gpx.gz")


def test_originals_only_has_no_regenerated_files(api, upload):
    made = _ready(upload, 3)
    export = _ask(api, contents="originals")
    _built(api, export["id"])
    zipped = _zip(api, export["id"])
    assert sorted(n.split("/")[0] for n in zipped.namelist()) == \
        ["activities.csv"] + ["originals"] * 3
    assert all(row["file"] == "" and row["note"] == "" for row in _rows(zipped))
    assert [int(row["id"]) for row in _rows(zipped)] == made


def test_a_user_without_activities_gets_a_zip_with_the_csv_alone(api):
    export = _ask(api, contents="both")
    assert _built(api, export["id"])["status"] == "ready"
    zipped = _zip(api, export["id"])
    assert zipped.namelist() == ["activities.csv"] and _rows(zipped) == []


# -- steps, checkpoints and resuming --------------------------------------------------------

def test_a_build_handed_back_resumes_from_its_checkpoint_past_a_torn_write(
        api, upload, settings):
    settings.CAIRN_EXPORT_CHUNK = 2
    made = _ready(upload, 7)
    export = _ask(api, contents="both")
    with freeze_time(NOW):
        first = leases.claim(export_kind.KIND, limit=1, now=NOW, owner="a", trigger="sweep")
        assert export_kind.run_one(first[0], budget_s=0) == "yielded"
    row = Export.objects.get(id=export["id"])
    assert (row.status, row.done, row.total) == ("building", 2, 7)
    assert api.get(f"/api/v1/exports/{row.id}").json()["progress"] == {"done": 2, "total": 7}
    # The next chunk was being written when its worker died: half a member, no directory.
    staged = next(staging.folder().glob(f"{row.key}-*.zip"))
    with open(staged, "ab") as torn:
        torn.write(b"PK\x03\x04" + b"\x00" * 300)
    with freeze_time(NOW):
        second = leases.claim(export_kind.KIND, limit=1, now=NOW, owner="b", trigger="sweep")
        assert export_kind.run_one(second[0]) == "converged"
    done = Attempt.objects.get(id=second[0].attempt_id)
    assert done.detail["resumed_from"] == 2 and done.detail["done"] == 7
    assert list(staging.folder().glob(f"{row.key}-*")) == []
    zipped = _zip(api, row.id)
    assert [int(r["id"]) for r in _rows(zipped)] == made
    assert len(zipped.namelist()) == len(set(zipped.namelist())) == 1 + 2 * 7


def test_the_zip_is_the_same_however_its_build_was_cut(api, upload, settings):
    settings.CAIRN_EXPORT_CHUNK = 3
    _ready(upload, 7)
    whole = _ask(api, contents="both")
    _built(api, whole["id"])
    one_go = b"".join(api.get(f"/api/v1/exports/{whole['id']}/download").streaming_content)
    _delete(api, whole["id"])
    _built(api, whole["id"])
    settings.CAIRN_EXPORT_CHUNK = 1
    cut = _ask(api, contents="both")
    with freeze_time(NOW):
        for step in range(8):
            taken = leases.claim(export_kind.KIND, limit=1, now=NOW, owner=f"w{step}",
                                 trigger="sweep")
            export_kind.run_one(taken[0], budget_s=0)
    stepped = b"".join(api.get(f"/api/v1/exports/{cut['id']}/download").streaming_content)
    assert stepped == one_go


# -- expiry and deletion -------------------------------------------------------------------

def test_an_expired_export_is_removed_by_the_sweep(api, upload):
    _ready(upload, 2)
    with freeze_time(NOW):
        export = _ask(api, contents="originals")
    _built(api, export["id"])
    name = Export.objects.get(id=export["id"]).file_name
    assert default_storage.exists(name)
    _built(api, export["id"], at=NOW + timedelta(days=6))
    assert default_storage.exists(name)
    after = _built(api, export["id"], at=NOW + timedelta(days=7, minutes=1))
    assert after["status"] == "expired" and after["download_url"] is None
    assert not default_storage.exists(name)
    gone = api.get(f"/api/v1/exports/{export['id']}/download")
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "ExportExpired"
    row = Export.objects.get(id=export["id"])
    assert not row.needs_work and row.lease_token is None
    outcomes = list(Attempt.objects.filter(kind="export", row_id=row.id)
                    .order_by("started_at").values_list("outcome", flat=True))
    assert outcomes == ["converged", "converged"]  # built, then expired


def test_deleting_a_ready_export_removes_its_zip_and_then_the_row(api, upload):
    _ready(upload, 1)
    export = _ask(api, contents="originals")
    _built(api, export["id"])
    name = Export.objects.get(id=export["id"]).file_name
    assert _delete(api, export["id"]).status_code == 204
    assert api.get(f"/api/v1/exports/{export['id']}").status_code == 404
    assert default_storage.exists(name)  # until the sweep's turn
    with freeze_time(NOW):
        sweep.drain()
    assert not default_storage.exists(name) and not Export.objects.exists()


def test_deleting_an_export_being_built_stops_it_and_frees_the_user_to_ask_again(
        api, upload, settings):
    settings.CAIRN_EXPORT_CHUNK = 1
    _ready(upload, 3)
    export = _ask(api, contents="both")
    with freeze_time(NOW):
        taken = leases.claim(export_kind.KIND, limit=1, now=NOW, owner="a", trigger="sweep")
        export_kind.run_one(taken[0], budget_s=0)
    key = Export.objects.get(id=export["id"]).key
    assert list(staging.folder().glob(f"{key}-*"))
    assert _delete(api, export["id"]).status_code == 204
    again = _ask(api, contents="originals")
    with freeze_time(NOW):
        sweep.drain()
    assert list(staging.folder().glob(f"{key}-*")) == []
    assert not default_storage.exists(build.stored_name(Export(key=key)))
    assert list(Export.objects.values_list("id", "status")) == [(again["id"], "ready")]


def test_a_zip_past_one_puts_limit_goes_to_the_object_store_in_parts(
        api, upload, s3_store, monkeypatch):
    monkeypatch.setattr(build, "SINGLE_PUT_BYTES", 1)
    monkeypatch.setattr(build, "PART_BYTES", 5 * 2**20)  # S3's smallest part
    # FIT originals go into the zip stored, not deflated: 12 of 40,000 points make two
    # parts. Originals alone need no processing.
    with freeze_time(NOW):
        originals = [factories.fit(points=40_000, seed=60 + n) for n in range(12)]
        made = [upload(data).activity.id for data in originals]
    export = _ask(api, contents="originals")
    with freeze_time(NOW):
        taken = leases.claim(export_kind.KIND, limit=1, now=NOW, owner="t", trigger="sweep")
        assert export_kind.run_one(taken[0]) == "converged"
    shown = api.get(f"/api/v1/exports/{export['id']}").json()
    assert shown["status"] == "ready" and shown["size_bytes"] > 5 * 2**20
    name = Export.objects.get(id=export["id"]).file_name
    head = default_storage.connection.meta.client.head_object(
        Bucket=default_storage.bucket_name, Key=default_storage._normalize_name(name))
    assert head["ETag"].strip('"').endswith("-2")  # a multipart upload's, of two parts
    zipped = _zip(api, export["id"])
    assert [int(row["id"]) for row in _rows(zipped)] == made
    assert [zipped.read(row["original_file"]) for row in _rows(zipped)] == originals
