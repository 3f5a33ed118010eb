"""The segments API: made from drawn points or a stretch of an activity, listed, renamed,
deleted; efforts best first with their rank, per segment and per activity; bad input a
400 with a message; another user's segments and activities a 404."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client

from activities import tokens
from reconciler import sweep
from segments.models import Effort, Segment, SegmentCell
from tests import segmentrides as rides

pytestmark = pytest.mark.django_db


def post(client: Client, body) -> object:
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post("/api/v1/segments", data, content_type="application/json")


@pytest.fixture
def mallory(other_user) -> Client:
    return Client(headers={"authorization": f"Bearer {tokens.create(other_user)}"})


def test_a_segment_from_drawn_points_answers_201_with_its_shape(api):
    made = post(api, {"name": "  The road ", "points": rides.road_points()})
    assert made.status_code == 201
    body = made.json()
    assert set(body) >= {"id", "name", "distance_m", "ascent_m", "points", "polyline"}
    assert body["name"] == "The road"
    assert body["distance_m"] == pytest.approx(1000.0, abs=1.0)
    assert body["ascent_m"] is None  # drawn without elevation
    assert body["points"] == rides.road_points() and body["matching"] is True
    assert SegmentCell.objects.filter(segment_id=body["id"]).count() == 1
    assert api.get(f"/api/v1/segments/{body['id']}").json() == body


def test_a_segment_from_a_stretch_of_an_activity_follows_its_track(api, user):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    sweep.drain()
    made = post(api, {"name": "Stretch", "activity_id": activity, "start_index": 25,
                      "end_index": 150})
    assert made.status_code == 201, made.content
    # One point a second at 8 m/s from 200 m before the road: points 25..150 are its km.
    assert made.json()["distance_m"] == pytest.approx(1000.0, abs=1.0)
    assert len(made.json()["points"]) == 126
    sweep.drain()
    [effort] = api.get(f"/api/v1/segments/{made.json()['id']}/efforts").json()["efforts"]
    assert effort["activity_id"] == activity and effort["rank"] == 1
    assert effort["elapsed_s"] == pytest.approx(125.0, abs=0.01)
    assert (effort["start_index"], effort["end_index"]) == (25, 150)


@pytest.mark.parametrize(("body", "words"), [
    (b"not json", "JSON object"),
    ([], "JSON object"),
    ({"points": [[45, 6], [45, 6.01]]}, "name"),
    ({"name": "", "points": [[45, 6], [45, 6.01]]}, "name"),
    ({"name": "x" * 256, "points": [[45, 6], [45, 6.01]]}, "name"),
    ({"name": "a\x00b", "points": [[45, 6], [45, 6.01]]}, "name"),
    ({"name": "r", "points": [[45, 6]]}, "2 to"),
    ({"name": "r", "points": "45,6"}, "2 to"),
    ({"name": "r", "points": [[45, 6], [91, 6]]}, "valid position"),
    ({"name": "r", "points": [[45, 6], [45, 6]]}, "length"),
    ({"name": "r", "points": [[45, 6], ["45", 6]]}, "[lat, lon]"),
    ({"name": "r", "points": [[45, 6], [45, True]]}, "[lat, lon]"),
    ({"name": "r", "points": [[45, 6], [45, 6.01, 2, 3]]}, "[lat, lon]"),
    ({"name": "r", "points": [[45, 6], [45, 6.01]], "activity_id": 1}, "Unknown"),
    ({"name": "r", "activity_id": "1", "start_index": 0, "end_index": 5}, "activity_id"),
    ({"name": "r", "activity_id": 10**30, "start_index": 0, "end_index": 5}, "activity_id"),
    ({"name": "r", "activity_id": 1, "start_index": 0.5, "end_index": 5}, "start_index"),
    ({"name": "r", "activity_id": 1, "start_index": 0}, "end_index"),
    ({"name": "r", "colour": "red"}, "Unknown"),
])
def test_bad_input_is_a_400_with_a_sentence(api, body, words):
    answer = post(api, body)
    assert answer.status_code == 400, answer.content
    assert words in answer.json()["error"]["message"]
    assert not Segment.objects.exists()


def test_indices_outside_the_track_are_a_400(api, user):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    sweep.drain()
    for start, end in ((10, 10), (-1, 5), (5, 100_000)):
        answer = post(api, {"name": "r", "activity_id": activity, "start_index": start,
                            "end_index": end})
        assert answer.status_code == 400 and "start_index" in answer.json()["error"]["message"]


def test_an_activity_not_processed_yet_is_a_400(api, user):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)  # no sweep: no track yet
    answer = post(api, {"name": "r", "activity_id": activity, "start_index": 1,
                        "end_index": 5})
    assert answer.status_code == 400 and "processed" in answer.json()["error"]["message"]


def test_rename_list_and_delete(api, user):
    ids = [post(api, {"name": f"r{n}", "points": rides.road_points()}).json()["id"]
           for n in range(3)]
    renamed = api.patch(f"/api/v1/segments/{ids[0]}", {"name": "Climb"},
                        content_type="application/json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Climb"
    for body in ({"name": ""}, {"points": []}, {}, "x"):
        bad = api.patch(f"/api/v1/segments/{ids[0]}", json.dumps(body),
                        content_type="application/json")
        assert bad.status_code == 400 and bad.json()["error"]["message"]
    first = api.get("/api/v1/segments?limit=2").json()
    assert [s["id"] for s in first["segments"]] == [ids[2], ids[1]]
    second = api.get(first["next"]).json()
    assert [s["id"] for s in second["segments"]] == [ids[0]] and second["next"] is None
    assert api.get("/api/v1/segments?limit=0").status_code == 400
    assert api.get("/api/v1/segments?cursor=x").status_code == 400
    assert api.get(f"/api/v1/segments?cursor={10**30}").status_code == 400
    assert api.delete(f"/api/v1/segments/{ids[0]}").status_code == 204
    assert api.get(f"/api/v1/segments/{ids[0]}").status_code == 404
    assert not SegmentCell.objects.filter(segment_id=ids[0]).exists()


def test_another_users_segments_and_activities_are_404(api, user, mallory):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    sweep.drain()
    segment = post(api, {"name": "Mine", "points": rides.road_points()}).json()["id"]
    sweep.drain()
    assert Effort.objects.filter(segment_id=segment).count() == 1
    for method, url in (("get", f"/api/v1/segments/{segment}"),
                        ("patch", f"/api/v1/segments/{segment}"),
                        ("delete", f"/api/v1/segments/{segment}"),
                        ("get", f"/api/v1/segments/{segment}/efforts"),
                        ("get", f"/api/v1/activities/{activity}/efforts")):
        answer = (mallory.get(url) if method == "get" else getattr(mallory, method)(
            url, json.dumps({"name": "x"}), content_type="application/json"))
        assert answer.status_code == 404, (method, url)
    assert mallory.get("/api/v1/segments").json()["segments"] == []
    stolen = post(mallory, {"name": "r", "activity_id": activity, "start_index": 1,
                            "end_index": 5})
    assert stolen.status_code == 404
    assert Segment.objects.get(id=segment).name == "Mine"


def test_efforts_come_best_first_in_pages_with_ranks_and_their_activities(api, user):
    speeds = [5.0, 8.0, 6.0, 8.0, 7.0]
    ids = [rides.upload(user, rides.ON, speed_mps=v, shift_s=3600 * n, name=f"ride {n}")
           for n, v in enumerate(speeds)]
    rides.upload(user, rides.BESIDE, speed_mps=9.0, shift_s=99_999)
    sweep.drain()
    segment = post(api, {"name": "Road", "points": rides.road_points()}).json()["id"]
    sweep.drain()
    seen, url = [], f"/api/v1/segments/{segment}/efforts?limit=2"
    while url:
        page = api.get(url).json()
        seen += page["efforts"]
        url = page["next"]
    assert [e["activity_id"] for e in seen] == [ids[1], ids[3], ids[4], ids[2], ids[0]]
    assert [e["rank"] for e in seen] == [1, 1, 3, 4, 5]  # a tie shares its rank
    assert [e["personal_best"] for e in seen] == [True, True, False, False, False]
    assert [e["elapsed_s"] for e in seen] == pytest.approx(
        [rides.expected_elapsed(v) for v in (8.0, 8.0, 7.0, 6.0, 5.0)], abs=0.01)
    assert seen[0]["activity_name"] == "ride 1" and seen[0]["segment_name"] == "Road"
    assert seen[0]["start_time"] > seen[0]["activity_start_time"]
    assert seen[0]["average_hr_bpm"] == pytest.approx(120.0)
    [own] = api.get(f"/api/v1/activities/{ids[4]}/efforts").json()["efforts"]
    assert (own["segment_id"], own["rank"]) == (segment, 3)
    for cursor in ("%%%", base64.urlsafe_b64encode(b"nan:1").decode(),
                   base64.urlsafe_b64encode(f"1.0:{10**30}".encode()).decode()):
        answer = api.get(f"/api/v1/segments/{segment}/efforts", {"cursor": cursor})
        assert answer.status_code == 400 and "cursor" in answer.json()["error"]["message"]
