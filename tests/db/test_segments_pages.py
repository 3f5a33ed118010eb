"""The segments' pages: the list (and its empty state), a segment's page (its efforts as
the API serves them, its best, whether it is still being matched), renaming and deleting
it, saving a stretch of an activity as one, and the activity page's panel of the efforts
it holds with their badges. Owner only: another user's segment or activity is a 404; bad
input a 400 with a sentence."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.test import Client

from activities import display
from activities.models import Profile
from reconciler import sweep
from segments.models import Effort, Segment
from tests import segmentrides as rides

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def stranger(other_user) -> Client:
    client = Client()
    client.force_login(other_user)
    return client


def text(response) -> str:
    return html.unescape(response.content.decode())


def made(api, name: str = "The road") -> dict:
    answer = api.post("/api/v1/segments", json.dumps({"name": name,
                                                      "points": rides.road_points()}),
                      content_type="application/json")
    assert answer.status_code == 201
    return answer.json()


@pytest.fixture
def ridden(api, user) -> dict:
    """The road as a segment, ridden on three days at 10, 8 and 5 m/s (the oldest the
    fastest), all matched."""
    segment = made(api)
    ids = [rides.upload(user, rides.ON, speed_mps=speed, shift_s=86400.0 * i,
                        name=f"ride {i}") for i, speed in enumerate((10.0, 8.0, 5.0))]
    sweep.drain()
    return {"segment": segment, "activities": ids}


def test_the_list_says_how_to_make_a_segment_when_there_is_none(browser):
    page = browser.get("/segments/")
    assert page.status_code == 200
    assert 'id="segments-empty"' in text(page) and "save a stretch" in text(page)


def test_the_list_shows_each_segment_with_its_best_and_efforts(browser, api, ridden):
    page = text(browser.get("/segments/"))
    served = api.get(f"/api/v1/segments/{ridden['segment']['id']}/efforts").json()["efforts"]
    assert f'href="/segments/{ridden["segment"]["id"]}/"' in page
    assert display.duration(served[0]["elapsed_s"]) in page
    row = re.search(r"<tr><th scope=\"row\"><a href=\"/segments/\d+/\">The road</a>.*?</tr>",
                    page).group(0)
    assert '<td data-label="Efforts">3</td>' in row
    assert display.distance(ridden["segment"]["distance_m"], "metric") in row


def test_the_segment_page_shows_the_efforts_the_api_serves(browser, api, ridden):
    segment_id = ridden["segment"]["id"]
    page = text(browser.get(f"/segments/{segment_id}/"))
    served = api.get(f"/api/v1/segments/{segment_id}/efforts").json()["efforts"]
    assert len(served) == 3
    table = page[page.index('id="segment-efforts"'):]
    rows = re.findall(r"<tr><td data-label=\"Date\">.*?</tr>", table)
    assert len(rows) == 3
    by_name = {e["activity_name"]: e for e in served}
    for row in rows:
        name = re.search(r'<a href="/activities/(\d+)/">(.*?)</a>', row)
        effort = by_name[name.group(2)]
        assert int(name.group(1)) == effort["activity_id"]
        assert display.duration(effort["elapsed_s"]) in row
        assert display.speed(effort["average_speed_mps"], "metric") in row
        assert ("Best" in row) == (effort["rank"] == 1)
        if effort["rank"] > 1:
            assert f'<td data-label="Rank">{effort["rank"]}</td>' in row
    best = re.search(r'id="segment-best">(.*?)</dd>', page).group(1)
    assert display.duration(served[0]["elapsed_s"]) in best and served[0]["activity_name"] in best
    assert 'id="efforts-chart"' in page and "<polyline" in page
    assert 'id="segment-matching"' not in page


def test_a_long_list_shows_the_newest_and_still_the_best(browser, api, ridden, monkeypatch):
    from segments import pages
    monkeypatch.setattr(pages, "EFFORTS_SHOWN", 2)
    segment_id = ridden["segment"]["id"]
    page = text(browser.get(f"/segments/{segment_id}/"))
    served = api.get(f"/api/v1/segments/{segment_id}/efforts").json()["efforts"]
    newest = sorted(served, key=lambda e: e["start_time"], reverse=True)
    shown = re.findall(r'<a href="/activities/(\d+)/">', page[page.index('id="segment-efforts"'):])
    assert [int(i) for i in shown] == [e["activity_id"] for e in newest[:2]]
    # The best is the oldest, not among those shown: still the page's best.
    assert served[0]["activity_id"] not in [int(i) for i in shown]
    assert 'id="segment-count">3<' in page and "newest 2 efforts" in page
    best = re.search(r'id="segment-best">(.*?)</dd>', page).group(1)
    assert served[0]["activity_name"] in best


def test_a_segment_being_matched_says_so(browser, api):
    segment = made(api)
    page = text(browser.get(f"/segments/{segment['id']}/"))
    assert 'id="segment-matching"' in page and "still being matched" in page
    assert 'id="segment-no-efforts"' in page


def test_paces_and_imperial_units_follow_the_user(browser, api, user, ridden):
    Profile.objects.update_or_create(user=user, defaults={"units": "imperial"})
    page = text(browser.get(f"/segments/{ridden['segment']['id']}/"))
    served = api.get(f"/api/v1/segments/{ridden['segment']['id']}/efforts").json()["efforts"]
    assert display.speed(served[0]["average_speed_mps"], "imperial") in page
    assert display.distance(ridden["segment"]["distance_m"], "imperial") in page


def test_another_users_segment_is_not_found(stranger, api, ridden):
    segment_id = ridden["segment"]["id"]
    assert stranger.get(f"/segments/{segment_id}/").status_code == 404
    assert stranger.post(f"/segments/{segment_id}/rename/", {"name": "Mine"}).status_code == 404
    assert stranger.get(f"/segments/{segment_id}/delete/").status_code == 404
    assert stranger.post(f"/segments/{segment_id}/delete/").status_code == 404
    assert Segment.objects.get(id=segment_id).name == "The road"
    activity = ridden["activities"][0]
    refused = stranger.post(f"/activities/{activity}/segment/",
                            {"name": "Mine", "start": "0.2", "end": "1.2"})
    assert refused.status_code == 404
    assert "segments-section" not in text(stranger.get("/segments/"))
    assert Segment.objects.count() == 1


def test_pages_ask_to_sign_in(client, api):
    segment = made(api)
    for url in ("/segments/", f"/segments/{segment['id']}/",
                f"/segments/{segment['id']}/delete/"):
        assert client.get(url).status_code == 302


def test_rename_changes_the_name_the_api_serves(browser, api):
    segment = made(api)
    done = browser.post(f"/segments/{segment['id']}/rename/", {"name": "  Hill  "})
    assert done.status_code == 302 and done["location"] == f"/segments/{segment['id']}/"
    assert api.get(f"/api/v1/segments/{segment['id']}").json()["name"] == "Hill"


@pytest.mark.parametrize("name", ["", "   ", "x" * 256, "a\x00b"])
def test_a_bad_name_is_refused_with_a_sentence(browser, api, name):
    segment = made(api)
    refused = browser.post(f"/segments/{segment['id']}/rename/", {"name": name})
    assert refused.status_code == 400
    assert "The name is 1 to 255 printable characters." in text(refused)
    assert Segment.objects.get(id=segment["id"]).name == "The road"


def test_delete_asks_then_deletes_the_segment_and_its_efforts(browser, api, ridden):
    segment_id = ridden["segment"]["id"]
    ask = browser.get(f"/segments/{segment_id}/delete/")
    assert ask.status_code == 200 and 'id="confirm-delete"' in text(ask)
    assert Segment.objects.filter(id=segment_id).exists()
    done = browser.post(f"/segments/{segment_id}/delete/")
    assert done.status_code == 302 and done["location"] == "/segments/"
    assert not Segment.objects.filter(id=segment_id).exists()
    assert not Effort.objects.filter(segment_id=segment_id).exists()
    assert api.get(f"/api/v1/segments/{segment_id}").status_code == 404


def test_a_stretch_saved_from_the_activity_page_is_the_api_segment(browser, api, user):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    sweep.drain()
    page = text(browser.get(f"/activities/{activity}/"))
    assert 'id="save-segment"' in page and f'action="/activities/{activity}/segment/"' in page
    # The ride starts 200 m before the road: 0.2 to 1.2 km from its start is the road.
    done = browser.post(f"/activities/{activity}/segment/",
                        {"name": "Road", "start": "0.2", "end": "1,2"})
    assert done.status_code == 302
    segment_id = int(re.fullmatch(r"/segments/(\d+)/", done["location"]).group(1))
    body = api.get(f"/api/v1/segments/{segment_id}").json()
    assert body["name"] == "Road" and body["matching"] is True
    assert body["distance_m"] == pytest.approx(1000.0, abs=10.0)
    sweep.drain()
    [effort] = api.get(f"/api/v1/segments/{segment_id}/efforts").json()["efforts"]
    assert effort["activity_id"] == activity


def test_a_stretch_in_miles_for_an_imperial_user(browser, api, user):
    Profile.objects.update_or_create(user=user, defaults={"units": "imperial"})
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    sweep.drain()
    assert "mi from the start" in text(browser.get(f"/activities/{activity}/"))
    done = browser.post(f"/activities/{activity}/segment/",
                        {"name": "Mile", "start": "0", "end": "0.5"})
    assert done.status_code == 302
    body = api.get(done["location"].replace("/segments/", "/api/v1/segments/")
                   .rstrip("/")).json()
    assert body["distance_m"] == pytest.approx(0.5 * display.M_PER_MI, abs=10.0)


@pytest.mark.parametrize(("form", "words"), [
    ({"name": "R", "start": "abc", "end": "1"}, "From is a distance"),
    ({"name": "R", "start": "0", "end": ""}, "To is a distance"),
    ({"name": "R", "start": "-1", "end": "1"}, "0 or more"),
    ({"name": "R", "start": "nan", "end": "1"}, "0 or more"),
    ({"name": "R", "start": "1", "end": "0.5"}, "The start comes before the end"),
    ({"name": "R", "start": "5", "end": "6"}, "start within it"),
    ({"name": "R", "start": "0.5", "end": "0.5001"}, "fewer than two points"),
    ({"name": "", "start": "0.2", "end": "1.2"}, "The name is 1 to 255"),
])
def test_a_bad_stretch_is_refused_with_a_sentence(browser, user, form, words):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    sweep.drain()
    refused = browser.post(f"/activities/{activity}/segment/", form)
    assert refused.status_code == 400
    assert words in text(refused)
    assert not Segment.objects.exists()


def test_no_stretch_of_an_unprocessed_activity(browser, user):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    refused = browser.post(f"/activities/{activity}/segment/",
                           {"name": "R", "start": "0.2", "end": "1.2"})
    assert refused.status_code == 400 and "no track yet" in text(refused)
    assert 'id="save-segment"' not in text(browser.get(f"/activities/{activity}/"))


def test_the_activity_page_lists_its_efforts_with_badges(browser, api, ridden):
    served = {e["activity_id"]: e for e in
              api.get(f"/api/v1/segments/{ridden['segment']['id']}/efforts")
              .json()["efforts"]}
    fast, middle, slow = ridden["activities"]
    for activity, badge in ((fast, "Personal best"), (middle, "Top 3 (2)"),
                            (slow, "Top 3 (3)")):
        page = text(browser.get(f"/activities/{activity}/"))
        section = page[page.index('id="segments-section"'):]
        assert badge in section
        assert display.duration(served[activity]["elapsed_s"]) in section
        assert f'href="/segments/{ridden["segment"]["id"]}/"' in section


def test_an_activity_on_no_segment_says_so(browser, user):
    activity = rides.upload(user, rides.FAR, speed_mps=8.0)
    sweep.drain()
    page = text(browser.get(f"/activities/{activity}/"))
    assert 'id="activity-efforts-none"' in page
