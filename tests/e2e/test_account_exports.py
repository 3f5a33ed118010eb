"""Strava account exports: activities.csv's names, descriptions and commute flags go to
the activities imported from the same archive; files it lists that the archive lacks are
reported as `missing`."""

import csv
import gzip
import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from freezegun import freeze_time

from activities.models import Activity
from reconciler import sweep
from tests import factories
from tests.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.storage]

# As Strava writes it: a header of some forty columns, some repeated further right.
HEADER = ["Activity ID", "Activity Date", "Activity Name", "Activity Type",
          "Activity Description", "Elapsed Time", "Distance", "Max Heart Rate",
          "Relative Effort", "Commute", "Activity Private Note", "Activity Gear", "Filename",
          "Athlete Weight", "Bike Weight", "Elapsed Time", "Moving Time", "Distance",
          "Commute"]


def activities_csv(rows: list[dict]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(HEADER)
    for row in rows:
        writer.writerow([row.get("id", ""), "Jan 10, 2026, 7:00:00 AM", row.get("name", ""),
                         row.get("type", "Ride"), row.get("description", ""), "600", "3.0",
                         "", "", "true" if row.get("commute") else "false", "", "",
                         row.get("file", ""), "", "", "600", "580", "3000.0",
                         "1.0" if row.get("commute") else "0.0"])
    return buffer.getvalue().encode()


def export(*, root: str = "") -> bytes:
    listed = activities_csv([
        {"id": "111", "name": "Ride to work", "description": "Rain, then sun.\nCold.",
         "type": "E-Bike Ride", "commute": True, "file": "activities/111.gpx.gz"},
        {"id": "222", "name": "Morning Run by the river", "type": "Run",
         "file": "activities/222.fit"},
        {"id": "333", "name": "Long TCX ride", "file": "activities/333.tcx.gz"},
        {"id": "444", "name": "Lost file", "file": "activities/444.fit.gz"},
        {"id": "555", "name": "Manual yoga entry", "type": "Yoga", "file": ""},
    ])
    return factories.archive([
        (f"{root}activities/111.gpx.gz", gzip.compress(factories.gpx(seed=9111))),
        (f"{root}activities/222.fit", factories.fit(seed=9222)),
        (f"{root}activities/333.tcx.gz", gzip.compress(factories.tcx(seed=9333))),
        (f"{root}activities/999.gpx", factories.gpx(seed=9999)),  # not in the list
        (f"{root}activities.csv", listed),
        (f"{root}profile.csv", b"Athlete ID,Email\n1,a@example.org\n"),
    ])


def expand(api, data: bytes) -> dict:
    with freeze_time(NOW):
        response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("export.zip", data)})
        assert response.status_code == 202, response.content
        sweep.drain()
    return response.json()


@pytest.mark.parametrize("root", ["", "export_12345/"])
def test_the_lists_names_descriptions_and_commutes_apply_and_missing_files_are_reported(
        api, root):
    upload = expand(api, export(root=root))
    listed = {f["name"]: f for f in api.get(f"/api/v1/uploads/{upload['id']}/files").json()[
        "files"]}
    by_name = {name: Activity.objects.get(id=f["activity_id"]) for name, f in listed.items()
               if f["activity_id"]}
    ride = by_name[f"{root}activities/111.gpx.gz"]
    assert (ride.name, ride.description, ride.commute) == ("Ride to work",
                                                           "Rain, then sun.\nCold.", True)
    run = by_name[f"{root}activities/222.fit"]
    assert (run.name, run.commute) == ("Morning Run by the river", False)
    assert by_name[f"{root}activities/333.tcx.gz"].name == "Long TCX ride"
    # Strava's activity types become the sports shown, as an owner's edit would.
    assert (ride.user_sport, run.user_sport) == ("e_biking", "running")
    assert api.get(f"/api/v1/activities/{ride.id}").json()["sport"] == "e_biking"
    # Not in the list: no name given, so the API shows the derived title.
    other = by_name[f"{root}activities/999.gpx"]
    assert (other.name, other.user_sport) == ("", "")
    assert api.get(f"/api/v1/activities/{other.id}").json()["name"] == "test 9999"
    assert api.get(f"/api/v1/activities/{ride.id}").json()["name"] == "Ride to work"
    # The list names a file the archive lacks: reported, after the archive's own files.
    missing = listed[f"{root}activities/444.fit.gz"]
    assert (missing["status"], missing["activity_id"], missing["error_code"]) == (
        "missing", None, "Missing")
    assert "444" in missing["error"] and "Lost file" in missing["error"]
    assert missing["index"] == 6
    assert listed[f"{root}activities.csv"]["status"] == "skipped"
    assert listed[f"{root}activities.csv"]["error_code"] == "ActivityList"
    assert len(listed) == 7  # six files and one missing; the manual entry has no file
    progress = api.get(f"/api/v1/uploads/{upload['id']}").json()["progress"]
    assert progress == {"files": 6, "seen": 6, "imported": 4, "duplicate": 0, "failed": 0,
                        "skipped": 2, "missing": 1}


def test_a_list_without_the_columns_or_unreadable_changes_nothing(api):
    data = factories.archive([
        ("activities/1.gpx", factories.gpx(seed=9001)),
        ("activities.csv", b"\xff\xfe not csv at all"),
    ])
    upload = expand(api, data)
    listed = api.get(f"/api/v1/uploads/{upload['id']}/files").json()["files"]
    assert [f["status"] for f in listed] == ["imported", "skipped"]
    assert listed[1]["error_code"] == "NotAnActivityFile"
    assert Activity.objects.get().name == ""


def test_an_export_expanded_across_a_resume_applies_the_list_once(api, monkeypatch):
    """Expansion stops after one member (as when too much work waits) and another
    round resumes it: the list is read again, members imported after the resume still get
    their names, and the missing file is reported once."""
    from activities.expansion import expand as expander
    from activities.expansion import kind as archive_kind
    from activities.models import Archive
    from work import leases

    with freeze_time(NOW):
        upload = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("e.zip", export())}
                          ).json()
    archive = Archive.objects.get(upload_id=upload["id"])
    calls = iter(range(100))
    monkeypatch.setattr(expander.limits, "pending_full", lambda: next(calls) >= 1)
    with freeze_time(NOW):
        claim = leases.claim_one(archive_kind.KIND, archive.id, now=NOW, owner="w1",
                                 trigger="sweep")
        assert archive_kind.expand(claim) == "yielded"
    archive.refresh_from_db()
    assert archive.cursor == 1 and archive.expanded_at is None
    monkeypatch.undo()
    with freeze_time(NOW + timedelta(minutes=5)):
        sweep.drain()
    archive.refresh_from_db()
    assert archive.expanded_at is not None
    listed = api.get(f"/api/v1/uploads/{upload['id']}/files").json()["files"]
    assert [f["status"] for f in listed].count("missing") == 1
    names = set(Activity.objects.values_list("name", flat=True))
    assert {"Ride to work", "Morning Run by the river", "Long TCX ride"} <= names


def test_every_sport_an_export_can_give_is_one_an_owner_could_choose():
    from activities import edits
    from core import exports

    assert set(exports.SPORTS.values()) <= edits.SPORTS
