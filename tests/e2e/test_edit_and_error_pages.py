"""The edit page (checked as the API's PATCH), styled 404 and 500 pages, staff links, and
the recent-uploads table's results in words."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from activities.models import Activity
from tests import factories

pytestmark = pytest.mark.django_db


def _signed_in(username: str = "alice", password: str = "correct-horse-9") -> Client:
    browser = Client()
    assert browser.login(username=username, password=password)
    return browser


def test_the_edit_page_renames_and_a_rebuild_keeps_it(user, upload):
    from reconciler import sweep

    activity = upload(factories.gpx()).activity
    sweep.drain()
    browser = _signed_in()
    assert 'value="' in browser.get(f"/activities/{activity.id}/edit/").content.decode()
    response = browser.post(f"/activities/{activity.id}/edit/", {
        "name": "  Lake loop ", "sport": "running", "description": "Windy."})
    assert response.status_code == 302
    activity.refresh_from_db()
    assert (activity.name, activity.user_sport, activity.description) == (
        "Lake loop", "running", "Windy.")
    page = browser.get(f"/activities/{activity.id}/").content.decode()
    assert "<h1>Lake loop</h1>" in page and "Windy." in page


@pytest.mark.parametrize(("form", "says"), [
    ({"name": "   ", "sport": "", "description": ""}, "name is 1 to 255"),
    ({"name": "Ride", "sport": "teleporting", "description": ""}, "sport is one of"),
])
def test_a_bad_edit_is_refused_with_a_sentence_and_changes_nothing(user, upload, form, says):
    activity = upload().activity
    response = _signed_in().post(f"/activities/{activity.id}/edit/", form)
    assert response.status_code == 400
    assert says in response.content.decode()
    assert Activity.objects.get(id=activity.id).user_sport == ""


def test_another_users_activity_cannot_be_edited(user, other_user, upload):
    activity = upload().activity
    mallory = _signed_in("mallory", "battery-staple-7")
    assert mallory.get(f"/activities/{activity.id}/edit/").status_code == 404
    assert mallory.post(f"/activities/{activity.id}/edit/", {"name": "Mine"}).status_code == 404
    assert Activity.objects.get(id=activity.id).name != "Mine"


def test_a_missing_page_is_a_styled_404_with_the_navigation(user):
    response = _signed_in().get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "<h1" in page and "Not found" in page and 'aria-label="Main"' in page
    assert "cairn.css" in page


def test_the_500_page_is_styled_and_needs_no_request_context():
    from activities.views import errors

    response = errors.server_error(RequestFactory().get("/activities/"))
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong on our side" in page and "cairn.css" in page


def test_staff_see_links_to_the_drift_page_and_the_admin(user, django_user_model):
    assert "/staff/drift/" not in _signed_in().get("/activities/").content.decode()
    django_user_model.objects.create_user("olga", password="ops-long-pass-1", is_staff=True)
    page = _signed_in("olga", "ops-long-pass-1").get("/activities/").content.decode()
    assert 'href="/staff/drift/"' in page and 'href="/admin/"' in page


def test_recent_uploads_say_what_came_of_each(user, upload):
    from reconciler import sweep

    upload(factories.gpx(points=400))
    upload(b"<gpx><trk><trkseg></trkseg></trk></gpx>")
    sweep.drain()
    page = _signed_in().get("/upload/").content.decode()
    assert 'data-label="Result"' in page
    assert " km · " in page  # the ready one's distance and time
    assert 'class="result error"' in page  # the failed one's reason
    assert "track: done" not in page


@pytest.mark.parametrize(("tiles", "allowed"), [
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
    ("https://{s}.tiles.example/{z}/{x}/{y}.png", "https://*.tiles.example"),
    ("", None),
])
def test_the_map_tiles_origin_alone_is_allowed_by_the_pages_policy(user, upload, settings,
                                                                   tiles, allowed):
    settings.CAIRN_MAP_TILES = tiles
    activity = upload().activity
    response = _signed_in().get(f"/activities/{activity.id}/")
    policy = response["Content-Security-Policy"]
    img_src = next(part for part in policy.split("; ") if part.startswith("img-src"))
    assert img_src == ("img-src 'self' data:" + (f" {allowed}" if allowed else ""))
    assert "script-src 'self';" in policy  # nothing else loosened
    assert f'"tiles": "{tiles}"' in response.content.decode()
