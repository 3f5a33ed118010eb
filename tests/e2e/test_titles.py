"""Titles as users see them: never the file's name or an archive member's number; the
uploader's name wins over the derived title."""

from datetime import UTC, datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from freezegun import freeze_time

from activities.models import Activity
from reconciler import sweep
from tests import factories
from tests.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.storage]

# 07:10 UTC in January is 08:10 in Ljubljana (factories' 46.0 N, 14.5 E): a morning.
MORNING = datetime(2026, 1, 10, 7, 10, tzinfo=UTC)


def unnamed_gpx(**kwargs) -> bytes:
    body = factories.gpx(**kwargs)
    head, _, rest = body.partition(b"<trk><name>")
    return head + b"<trk>" + rest.partition(b"</name>")[2]


def test_an_unnamed_upload_is_titled_by_time_and_sport_not_by_its_file_name(api, user):
    with freeze_time(NOW):
        response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile(
            "tormoder__garmin.gpx", unnamed_gpx(start=MORNING))})
        sweep.drain()
    activity_id = response.json()["activity_id"]
    assert Activity.objects.get(id=activity_id).name == ""  # no one named it
    body = api.get(f"/api/v1/activities/{activity_id}").json()
    assert (body["name"], body["title"]) == ("Morning Ride", "Morning Ride")
    assert api.get(f"/api/v3/activities/{activity_id}").json()["name"] == "Morning Ride"
    browser = Client()
    browser.force_login(user)
    assert "Morning Ride" in browser.get("/activities/").content.decode()
    assert "tormoder__garmin" not in browser.get(f"/activities/{activity_id}/").content.decode()


def test_archive_members_are_not_named_by_number(api):
    archive = factories.archive([("activities/1.gpx", unnamed_gpx(start=MORNING)),
                                 ("activities/2.fit", factories.fit(seed=30))])
    with freeze_time(NOW):
        api.post("/api/v1/uploads", {"file": SimpleUploadedFile("export.zip", archive)})
        sweep.drain()
    names = sorted(api.get(f"/api/v1/activities/{a.id}").json()["name"]
                   for a in Activity.objects.all())
    # The FIT (07:30 UTC) has records but no sport: "Morning Activity" at 46 N 14.5 E.
    assert names == ["Morning Activity", "Morning Ride"]


def test_the_uploaders_name_wins_over_the_title(api):
    with freeze_time(NOW):
        response = api.post("/api/v1/uploads", {
            "file": SimpleUploadedFile("a.gpx", unnamed_gpx(start=MORNING)),
            "name": "Commute in the snow"})
        sweep.drain()
    body = api.get(f"/api/v1/activities/{response.json()['activity_id']}").json()
    assert (body["name"], body["title"]) == ("Commute in the snow", "Morning Ride")
