"""TCX files as users send them: uploaded plain or gzipped, inside account exports, and
through the Strava-compatible upload with data_type=tcx."""

import gzip

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from freezegun import freeze_time

from activities.models import Activity
from reconciler import sweep
from tests import factories
from tests.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.storage]


@pytest.mark.parametrize("gzipped", [False, True])
def test_an_uploaded_tcx_becomes_an_activity_with_the_devices_distance(api, gzipped):
    data = factories.tcx(points=121, step_s=5)  # 600 s, 3,000 m by the device
    with freeze_time(NOW):
        response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile(
            "run.tcx.gz" if gzipped else "run.tcx", gzip.compress(data) if gzipped else data)})
        assert response.status_code == 202, response.content
        sweep.drain()
    body = api.get(f"/api/v1/activities/{response.json()['activity_id']}").json()
    assert (body["status"], body["format"], body["sport"]) == ("ready", "tcx", "running")
    assert (body["distance_m"], body["elapsed_s"]) == (3000.0, 600.0)
    assert body["avg_hr_bpm"] is not None


def test_tcx_members_of_an_export_are_imported(api):
    archive = factories.archive([
        ("activities/1.tcx", factories.tcx(seed=7001)),
        ("activities/2.tcx.gz", gzip.compress(factories.tcx(seed=7002))),
        ("activities/3.gpx", factories.gpx(seed=7003)),
    ])
    with freeze_time(NOW):
        body = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("export.zip", archive)}
                        ).json()
        sweep.drain()
    listed = api.get(f"/api/v1/uploads/{body['id']}/files").json()["files"]
    assert {f["name"]: f["status"] for f in listed} == {
        "activities/1.tcx": "imported", "activities/2.tcx.gz": "imported",
        "activities/3.gpx": "imported"}
    assert sorted(Activity.objects.values_list("format", "status")) == [
        ("gpx", "ready"), ("tcx", "ready"), ("tcx", "ready")]


def test_strava_upload_with_data_type_tcx_is_processed(api):
    client = api  # the same bearer tokens serve the Strava-compatible API
    with freeze_time(NOW):
        response = client.post("/api/v3/uploads", {
            "file": SimpleUploadedFile("run.tcx.gz", gzip.compress(factories.tcx())),
            "data_type": "tcx.gz"})
        assert response.status_code == 201, response.content
        sweep.drain()
    upload = client.get(f"/api/v3/uploads/{response.json()['id']}").json()
    assert upload["error"] is None and upload["activity_id"] is not None
    activity = client.get(f"/api/v3/activities/{upload['activity_id']}").json()
    assert activity["sport_type"] == "Run" and activity["distance"] > 0


@pytest.mark.parametrize(("hostile", "code"), [
    # Billion laughs: refused before parsing.
    (lambda body: body.replace(
        b"<TrainingCenterDatabase", b'<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b '
        b'"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><TrainingCenterDatabase', 1), "UnsafeXml"),
    # 100,000 nested elements in one trackpoint's extensions: refused at the bound.
    (lambda body: body.replace(
        b"</Trackpoint>", b"<Extensions>" + b"<x>" * 100_000 + b"</x>" * 100_000
        + b"</Extensions></Trackpoint>", 1), "CorruptFile"),
])
def test_hostile_tcx_fails_with_a_reason(api, hostile, code):
    data = hostile(factories.tcx())
    with freeze_time(NOW):
        response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("x.tcx", data)})
        assert response.status_code == 202
        sweep.drain()
    body = api.get(f"/api/v1/activities/{response.json()['activity_id']}").json()
    assert (body["status"], body["error_code"]) == ("failed", code)
