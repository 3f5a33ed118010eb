"""The plain browser pages: sign-in, upload form with CSRF, status, owner-only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from activities.models import Upload
from tests import factories

pytestmark = pytest.mark.django_db


def test_upload_page_requires_sign_in():
    response = Client().get("/upload/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_signed_in_user_uploads_through_the_form_with_csrf(user):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="alice", password="correct-horse-9")
    page = browser.get("/upload/")
    token = page.cookies["csrftoken"].value
    refused = browser.post("/upload/", {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    assert refused.status_code == 403  # no CSRF token
    response = browser.post("/upload/", {"file": SimpleUploadedFile("a.gpx", factories.gpx()),
                                         "csrfmiddlewaretoken": token})
    upload = Upload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/uploads/{upload.id}/"
    status = browser.get(response["Location"])
    assert b"queued" in status.content


def test_bad_file_through_the_form_shows_the_reason(user):
    browser = Client()
    browser.login(username="alice", password="correct-horse-9")
    response = browser.post("/upload/", {"file": SimpleUploadedFile("a.gpx", b"hello")},
                            follow=True)
    assert b"not FIT, GPX or TCX" in response.content
    assert not Upload.objects.exists()


def test_other_users_upload_page_is_404(user, other_user, upload):
    accepted = upload()
    browser = Client()
    browser.login(username="mallory", password="battery-staple-7")
    assert browser.get(f"/uploads/{accepted.upload.id}/").status_code == 404


def _signed_in(username="alice", password="correct-horse-9") -> Client:
    browser = Client()
    assert browser.login(username=username, password=password)
    return browser


def test_several_files_through_the_form_without_javascript(user):
    files = [SimpleUploadedFile(f"{i}.gpx", factories.gpx(seed=i)) for i in range(2)]
    response = _signed_in().post("/upload/", {"file": [*files, SimpleUploadedFile(
        "bad.gpx", b"hello")]}, follow=True)
    assert Upload.objects.count() == 2
    assert b"2 of 3 files uploaded" in response.content
    assert b"bad.gpx: " in response.content  # the refusal names its file


def test_a_zip_through_the_form_shows_the_archives_status_and_in_the_recent_list(user):
    data = factories.archive([("a.gpx", factories.gpx(seed=1)), ("b.gpx", factories.gpx(seed=2))])
    browser = _signed_in()
    response = browser.post("/upload/", {"file": SimpleUploadedFile("export.zip", data)},
                            follow=True)
    assert response.status_code == 200
    assert b"<h1>export.zip</h1>" in response.content
    assert b"0 of 2 files read." in response.content
    assert b"export.zip (archive)" in browser.get("/upload/").content


def test_activity_list_is_the_owners_newest_first_with_totals_and_pages(user, other_user,
                                                                        upload):
    from freezegun import freeze_time

    from activities.views import pages
    from reconciler import sweep
    from tests.conftest import NOW

    with freeze_time(NOW):
        first = upload(factories.gpx(seed=1), details=_named("first")).activity
        sweep.drain()
    with freeze_time(NOW.replace(hour=13)):
        upload(factories.gpx(seed=2), details=_named("second"))
    upload(factories.gpx(seed=3), owner=other_user, details=_named("mallory's"))
    page = _signed_in().get("/activities/").content.decode()
    assert page.index("second") < page.index("first")
    assert "mallory" not in page.split("<main")[1]
    assert f'src="/api/v1/activities/{first.id}/preview.svg" alt="Route of first"' in page
    assert " km</dd>" in page
    for seed in range(pages.PAGE_SIZE):
        upload(factories.gpx(seed=100 + seed))
    second_page = _signed_in().get("/activities/?page=2").content.decode()
    assert "first" in second_page and "Page 2 of 2" in second_page


def test_activity_page_is_owner_only_and_a_failed_one_offers_reprocess(user, other_user,
                                                                       upload):
    from reconciler import sweep

    failed = upload(factories.gpx()[:200]).activity
    sweep.drain()
    failed.refresh_from_db()
    page = _signed_in().get(f"/activities/{failed.id}/").content.decode()
    assert failed.error_message in page
    assert f'action="/activities/{failed.id}/reprocess/"' in page
    assert ">Reprocess</button>" in page
    mallory = _signed_in("mallory", "battery-staple-7")
    assert mallory.get(f"/activities/{failed.id}/").status_code == 404


def test_a_queued_activity_page_refreshes_without_javascript(user, upload):
    queued = upload().activity
    page = _signed_in().get(f"/activities/{queued.id}/").content.decode()
    assert '<noscript><meta http-equiv="refresh"' in page
    assert "Processing: 0 %" in page and "track: waiting" not in page


def test_units_are_metric_until_the_user_chooses_imperial(user, upload):
    from activities.models import Profile
    from reconciler import sweep

    activity = upload(factories.gpx(points=400)).activity
    sweep.drain()
    browser = _signed_in()
    assert " km</dd>" in browser.get("/activities/").content.decode()
    assert not Profile.objects.exists()  # made on the first visit to the settings
    assert browser.get("/settings/").status_code == 200
    assert Profile.objects.get(user=user).units == "metric"
    browser.post("/settings/", {"units": "imperial"})
    assert " mi</dd>" in browser.get("/activities/").content.decode()
    page = browser.get(f"/activities/{activity.id}/").content.decode()
    assert '"units": "imperial"' in page and " ft</dd>" in page


@pytest.mark.parametrize(("call", "expected"), [
    (("distance", 9008.2, "metric"), "9.01 km"),
    (("distance", 9008.2, "imperial"), "5.60 mi"),
    (("elevation", 64, "imperial"), "210 ft"),
    (("speed", 10, "metric"), "36.0 km/h"),
    (("speed", 10, "imperial"), "22.4 mph"),
    (("pace", 1000 / 314, "metric"), "5:14 /km"),  # 5:14 per kilometre
    (("pace", 0.1, "metric"), "—"),  # standing still has no pace
    (("duration", 2832.0), "47:12"),
    (("duration", 3723), "1:02:03"),
    (("distance", None, "metric"), "—"),
])
def test_numbers_are_shown_in_the_users_units(call, expected):
    from activities import display

    name, *args = call
    assert getattr(display, name)(*args) == expected


def _named(name: str):
    from activities import ingest

    return ingest.Details(name=name)


@pytest.mark.django_db
def test_activity_list_is_in_the_order_the_activities_happened(user, upload):
    from datetime import UTC, datetime

    from reconciler import sweep

    later = upload(factories.gpx(start=datetime(2026, 5, 1, tzinfo=UTC))).activity
    earlier = upload(factories.gpx(start=datetime(2025, 5, 1, tzinfo=UTC))).activity
    sweep.drain()
    earlier.refresh_from_db()
    assert earlier.start_time == datetime(2025, 5, 1, tzinfo=UTC)
    browser = Client()
    browser.login(username="alice", password="correct-horse-9")
    rows = [row["activity"].id for row in browser.get("/activities/").context["rows"]]
    assert rows == [later.id, earlier.id]
