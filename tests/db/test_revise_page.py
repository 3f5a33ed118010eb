"""The revise page: a crop or split previewed (the new distance and time, nothing saved),
then saved through the same code as the API; times read as people write them; earlier
revisions restored from their buttons; another user's activity is a 404."""

from __future__ import annotations

import pytest
from django.test import Client
from freezegun import freeze_time

from activities import display
from activities.models import Activity
from activities.views.revise import _Unreadable, seconds
from core import revisions as edits_of
from core.summarize import summarize
from reconciler import sweep
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


def _ready(upload) -> Activity:
    with freeze_time(NOW):
        accepted = upload(factories.gpx(points=240, step_s=5))
        sweep.drain()
    return Activity.objects.get(id=accepted.activity.id)


def _post(browser, activity, **form):
    with freeze_time(NOW):
        return browser.post(f"/activities/{activity.id}/revise/", form)


def test_a_preview_shows_the_new_distance_and_time_and_saves_nothing(browser, upload):
    activity = _ready(upload)
    response = _post(browser, activity, start="0:05:00", end="0:15:00",
                     action="preview-crop")
    assert response.status_code == 200
    from activities import revisions

    track = revisions.current_track(activity)
    first, _ = edits_of.span(track)
    expected = summarize(edits_of.apply(track, {"crop": [first + 300, first + 900]}))
    page = response.content.decode()
    assert f"{display.distance(expected['distance_m'], 'metric')} in 10:00" in page
    assert Activity.objects.get(id=activity.id).revision == 0


def test_crop_saves_a_revision_and_the_page_lists_it_with_a_restore_button(browser, upload):
    activity = _ready(upload)
    response = _post(browser, activity, start="5:00", end="15:00", action="crop")
    assert response.status_code == 302
    assert Activity.objects.get(id=activity.id).revision == 1
    with freeze_time(NOW):
        sweep.drain()
        page = browser.get(f"/activities/{activity.id}/revise/").content.decode()
    assert "Cropped to 0:05:00–0:15:00" in page and "— current" in page
    assert f"/activities/{activity.id}/revisions/0/restore/" in page
    with freeze_time(NOW):
        response = browser.post(f"/activities/{activity.id}/revisions/0/restore/")
    assert response.status_code == 302
    assert Activity.objects.get(id=activity.id).revision == 2


def test_split_makes_the_second_part_and_shows_it(browser, upload):
    activity = _ready(upload)
    response = _post(browser, activity, at="0:08:20", action="split")
    part = Activity.objects.get(split_from=activity)
    assert response["Location"] == f"/activities/{part.id}/"
    with freeze_time(NOW):
        sweep.drain()
        page = browser.get(f"/activities/{part.id}/").content.decode()
        first = browser.get(f"/activities/{activity.id}/").content.decode()
    assert f'href="/activities/{activity.id}/"' in page and "Split from" in page
    assert f'href="/activities/{part.id}/"' in first and "Split into this and" in first


@pytest.mark.parametrize("form,status,words", [
    ({"start": "five", "end": "0:10:00", "action": "crop"}, 400, "hours:minutes:seconds"),
    ({"start": "0:61:00", "end": "1:10:00", "action": "crop"}, 400, "more than 59"),
    ({"start": "0:10:00", "end": "0:05:00", "action": "crop"}, 422, "end after it starts"),
    ({"at": "5:00:00", "action": "split"}, 422, "inside the activity"),
    ({"action": "frobnicate"}, 400, "preview or save"),
])
def test_what_cannot_be_done_is_said_and_nothing_changes(browser, upload, form, status, words):
    activity = _ready(upload)
    response = _post(browser, activity, **form)
    assert response.status_code == status
    assert words in response.content.decode()
    assert Activity.objects.get(id=activity.id).revision == 0
    assert Activity.objects.count() == 1


def test_an_activity_without_times_says_why_it_cannot_be_cropped(browser, upload):
    with freeze_time(NOW):
        activity = upload(factories.gpx(times=False)).activity
        sweep.drain()
        page = browser.get(f"/activities/{activity.id}/revise/").content.decode()
    assert "no times" in page and 'id="crop-form"' not in page


def test_another_users_activity_is_a_404(upload, other_user):
    activity = _ready(upload)
    intruder = Client()
    intruder.force_login(other_user)
    assert intruder.get(f"/activities/{activity.id}/revise/").status_code == 404
    assert intruder.post(f"/activities/{activity.id}/revise/",
                         {"start": "0:00", "end": "1:00", "action": "crop"}).status_code == 404
    assert intruder.post(f"/activities/{activity.id}/revisions/0/restore/").status_code == 404
    assert Activity.objects.get(id=activity.id).revision == 0


@pytest.mark.parametrize("text,value", [("0:05:00", 300), ("5:00", 300), ("75", 75),
                                        ("1:02:03", 3723)])
def test_times_read_as_people_write_them(text, value):
    assert seconds(text, "start") == value


@pytest.mark.parametrize("text", ["1:2:3:4", "9" * 400 + ":00:00", "9" * 400, ""])
def test_a_time_that_is_not_one_is_refused(text):
    with pytest.raises(_Unreadable):
        seconds(text, "start")
