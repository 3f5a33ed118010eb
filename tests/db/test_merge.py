"""Merging a probable duplicate (duplicates.merging) through the loop: a bike computer's
ride with power and no heart rate and a watch's recording of the same ride with heart
rate. Merged, the watch's leaves the list, totals, heatmap, gear, training and segments
(counted once) and the ride takes its heart rate; unmerged, every book and output is
back, byte for byte. The API's errors, the owner-only rule and the pages' buttons."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.test import Client
from freezegun import freeze_time

from activities import deletion, ingest, tokens
from activities.models import Activity, Derived
from core import track as tracks
from duplicates import check
from duplicates.models import Check
from reconciler import sweep
from segments.models import Effort
from tests import segmentrides as roads
from tests import twins
from tests.conftest import NOW
from training import drift as training_drift
from training.models import ActivityLoad
from training.rebuild import VERSION as TRAINING_VERSION

pytestmark = pytest.mark.django_db

def _upload(user, data: bytes, name: str) -> Activity:
    with freeze_time(NOW):
        activity = ingest.accept(data, owner=user, original_name=name).activity
        sweep.drain()
    return Activity.objects.get(id=activity.id)


def _drain():
    with freeze_time(NOW):
        sweep.drain()


@pytest.fixture
def api(user):
    return Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")


@pytest.fixture
def pair(user, api):
    """(bike, watch): the bike computer's (power, no heart rate: kept, more data) and the
    watch's (heart rate every 4 s), both with the gear, on a segment of the road."""
    answer = api.post("/api/v1/segments", json.dumps(
        {"name": "Road", "points": roads.road_points()}), content_type="application/json")
    assert answer.status_code == 201, answer.content
    gear = api.post("/api/v1/gear", json.dumps({"name": "Bike", "kind": "bike"}),
                    content_type="application/json").json()["id"]
    ride = _upload(user, twins.bike_fit(), "ride.fit")
    worn = _upload(user, twins.watch_gpx(), "watch.gpx")
    with freeze_time(NOW):
        for activity in (ride, worn):
            assert api.patch(f"/api/v1/activities/{activity.id}", json.dumps(
                {"gear_id": gear}), content_type="application/json").status_code == 200
    _drain()
    ride.refresh_from_db()
    worn.refresh_from_db()
    assert worn.duplicate_of_id == ride.id and ride.duplicate_of_id is None
    return ride, worn


def books(api) -> dict:
    """What the owner's books and lists answer (without the times they were built)."""
    def clean(answer):
        body = answer.json()
        for name in ("built_at", "current", "status", "pending"):
            body.pop(name, None)
        return body
    return {
        "records": clean(api.get("/api/v1/records")),
        "totals": clean(api.get("/api/v1/totals?period=year")),
        "heatmap": api.get("/api/v1/heatmap.png").content,
        "gear": clean(api.get("/api/v1/gear")),
        "list": [a["id"] for a in api.get("/api/v1/activities").json()["activities"]],
        "strava": [a["id"] for a in api.get("/api/v3/athlete/activities").json()],
        "loads": sorted(ActivityLoad.objects.values_list("activity_id", flat=True)),
        "efforts": sorted(Effort.objects.values_list("activity_id", flat=True)),
    }


def outputs(activity_id: int) -> dict:
    return {d: bytes(data) for d, data in Derived.objects.filter(
        activity_id=activity_id, status=Derived.Status.READY).values_list("deriver", "data")
        if data is not None}


def summary(api, activity_id: int) -> dict:
    return api.get(f"/api/v1/activities/{activity_id}").json()


def test_merge_counts_the_pair_once_and_unmerge_gives_every_book_back(user, api, pair):
    ride, worn = pair
    before, ride_before = books(api), outputs(ride.id)
    assert before["totals"]["totals"][0]["count"] == 2
    assert before["list"] == sorted([ride.id, worn.id], reverse=True)
    assert before["gear"]["gear"][0]["count"] == 2
    assert before["loads"] == before["efforts"] == sorted([ride.id, worn.id])
    assert summary(api, ride.id)["avg_hr_bpm"] is None

    with freeze_time(NOW):
        answer = api.post(f"/api/v1/activities/{worn.id}/merge")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["primary"]["id"] == ride.id and body["merged"]["merged_into"] == ride.id
    assert body["streams_taken"] == ["hr"]
    _drain()
    merged = books(api)
    totals = merged["totals"]["totals"][0]
    assert totals["count"] == 1
    assert totals["distance_m"] == pytest.approx(summary(api, ride.id)["distance_m"], abs=0.1)
    assert totals["distance_m"] < before["totals"]["totals"][0]["distance_m"]
    assert merged["list"] == merged["strava"] == [ride.id]
    assert merged["gear"]["gear"][0]["count"] == 1
    assert merged["loads"] == merged["efforts"] == [ride.id]
    assert all(r["activity_id"] == ride.id for r in merged["records"]["records"])
    assert merged["heatmap"] != before["heatmap"]  # one route through each pixel, not two
    # The ride took the watch's heart rate; the watch is still readable at its address.
    taken = summary(api, ride.id)
    assert 120 <= taken["avg_hr_bpm"] <= 150
    track = tracks.decode(outputs(ride.id)["track"])
    assert track.has("hr") and track.has("power")
    assert np.count_nonzero(~np.isnan(track.hr)) > 0.9 * track.n
    watch = api.get(f"/api/v1/activities/{worn.id}").json()
    assert watch["merged_into"] == ride.id and watch["duplicate_of"] is None
    exported = api.get(f"/api/v1/activities/{ride.id}/export?format=gpx").content
    assert b"<gpxtpx:hr>" in exported or b":hr>" in exported
    assert Check.objects.get(user=user).pairs == []  # the check never pairs them again
    # Drift counts no load missing: the merged one is owed none.
    assert training_drift.count(now=NOW, version=TRAINING_VERSION)["loads_missing"] == 0

    with freeze_time(NOW):
        answer = api.post(f"/api/v1/activities/{worn.id}/unmerge")
    assert answer.status_code == 200 and answer.json()["merged_into"] is None
    _drain()
    assert books(api) == before
    assert outputs(ride.id) == ride_before
    assert summary(api, ride.id)["avg_hr_bpm"] is None
    assert Activity.objects.get(id=worn.id).duplicate_of_id == ride.id  # paired again


def test_the_owner_picks_the_primary_and_the_records_move_to_it(user, api, pair):
    ride, worn = pair
    before = books(api)
    # Equal records go to the earlier activity: the ride holds them all, counted twice.
    assert {r["activity_id"] for r in before["records"]["records"]} == {ride.id}
    with freeze_time(NOW):
        answer = api.post(f"/api/v1/activities/{worn.id}/merge",
                          json.dumps({"primary": worn.id}), content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["primary"]["id"] == worn.id
    assert answer.json()["streams_taken"] == ["power"]
    _drain()
    assert Activity.objects.get(id=ride.id).merged_into_id == worn.id
    assert [a["id"] for a in api.get("/api/v1/activities").json()["activities"]] == [worn.id]
    assert summary(api, worn.id)["avg_power_w"] is not None
    moved = books(api)
    assert {r["activity_id"] for r in moved["records"]["records"]} == {worn.id}
    assert moved["totals"]["totals"][0]["count"] == 1
    with freeze_time(NOW):
        assert api.post(f"/api/v1/activities/{ride.id}/unmerge").status_code == 200
    _drain()
    assert books(api) == before


def test_errors_and_the_owner_only_rule(user, other_user, api, pair):
    ride, worn = pair
    merge = f"/api/v1/activities/{worn.id}/merge"
    for body in ("[1]", "{\"primary\": \"x\"}", "{\"other\": 1}", "not json",
                 "{\"primary\": true}"):
        answer = api.post(merge, body, content_type="application/json")
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "BadRequest"
    answer = api.post(merge, json.dumps({"primary": 999_999}), content_type="application/json")
    assert answer.status_code == 400
    # The one kept is no duplicate itself: 409, as an unmerge of what is not merged.
    answer = api.post(f"/api/v1/activities/{ride.id}/merge")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "NotADuplicate"
    answer = api.post(f"/api/v1/activities/{worn.id}/unmerge")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "NotMerged"
    intruder = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    for path in ("merge", "unmerge"):
        assert intruder.post(f"/api/v1/activities/{worn.id}/{path}").status_code == 404
    assert Activity.objects.get(id=worn.id).merged_into_id is None
    with freeze_time(NOW):
        assert api.post(merge).status_code == 200
    # Merged already: no second merge, and Keep both is no longer offered.
    assert api.post(merge).status_code == 409
    assert api.post(f"/api/v1/activities/{worn.id}/keep-both").status_code == 409
    assert intruder.post(f"/api/v1/activities/{worn.id}/unmerge").status_code == 404


def test_keep_both_and_merge_are_exclusive(api, pair):
    ride, worn = pair
    with freeze_time(NOW):
        assert api.post(f"/api/v1/activities/{worn.id}/keep-both").status_code == 200
    _drain()
    assert api.post(f"/api/v1/activities/{worn.id}/merge").status_code == 409


def test_deleting_the_primary_brings_the_merged_one_back(api, pair):
    ride, worn = pair
    with freeze_time(NOW):
        api.post(f"/api/v1/activities/{worn.id}/merge")
        deletion.request(Activity.objects.filter(id=ride.id), now=NOW)
    _drain()
    assert Activity.objects.get(id=worn.id).merged_into_id is None
    assert [a["id"] for a in api.get("/api/v1/activities").json()["activities"]] == [worn.id]
    assert sorted(ActivityLoad.objects.values_list("activity_id", flat=True)) == [worn.id]


def test_deleting_the_merged_one_gives_its_streams_back(api, pair):
    ride, worn = pair
    before = outputs(ride.id)
    with freeze_time(NOW):
        api.post(f"/api/v1/activities/{worn.id}/merge")
    _drain()
    assert outputs(ride.id) != before
    with freeze_time(NOW):
        deletion.request(Activity.objects.filter(id=worn.id), now=NOW)
    _drain()
    assert outputs(ride.id) == before


def test_the_pages_offer_merge_and_unmerge(user, pair):
    ride, worn = pair
    browser = Client()
    browser.force_login(user)
    listed = browser.get("/activities/").content.decode()
    assert f'action="/activities/{worn.id}/merge/"' in listed
    page = browser.get(f"/activities/{worn.id}/").content.decode()
    assert "Probably the same outing as" in page and 'id="merge"' in page
    with freeze_time(NOW):
        response = browser.post(f"/activities/{worn.id}/merge/")
    assert response.status_code == 302 and response.url == f"/activities/{ride.id}/"
    _drain()
    assert f'href="/activities/{worn.id}/"' not in browser.get("/activities/").content.decode()
    kept = browser.get(f"/activities/{ride.id}/").content.decode()
    assert "Merged with" in kept and "heart rate taken" in kept
    history = browser.get(f"/activities/{ride.id}/revise/").content.decode()
    assert f"Took heart rate from activity {worn.id}, merged into this one" in history
    page = browser.get(f"/activities/{worn.id}/").content.decode()
    assert "Merged into" in page and 'id="unmerge"' in page
    with freeze_time(NOW):
        response = browser.post(f"/activities/{worn.id}/unmerge/")
    assert response.status_code == 302
    assert Activity.objects.get(id=worn.id).merged_into_id is None
    assert browser.post(f"/activities/{ride.id}/merge/").status_code == 302  # says why


def test_restoring_the_merge_revision_after_unmerging_takes_nothing(api, pair):
    ride, worn = pair
    before = outputs(ride.id)
    with freeze_time(NOW):
        api.post(f"/api/v1/activities/{worn.id}/merge")
    _drain()
    merged_revision = Activity.objects.get(id=ride.id).revision
    with freeze_time(NOW):
        api.post(f"/api/v1/activities/{worn.id}/unmerge")
        answer = api.post(f"/api/v1/activities/{ride.id}/revisions/{merged_revision}/restore")
    assert answer.status_code == 202, answer.content
    _drain()
    assert outputs(ride.id) == before
    actions = [r["action"] for r in api.get(
        f"/api/v1/activities/{ride.id}/revisions").json()["revisions"]]
    assert actions == ["original", "merge", "unmerge", "restore"]


def test_a_track_not_derived_yet_is_a_409_and_nothing_changes(api, pair):
    ride, worn = pair
    # The ride's track as a split's new part has it before its first round: none stored.
    Derived.objects.filter(activity_id=ride.id, deriver="track").delete()
    with freeze_time(NOW):
        answer = api.post(f"/api/v1/activities/{worn.id}/merge")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "NotReady"
    worn.refresh_from_db()
    assert worn.merged_into_id is None and worn.duplicate_of_id == ride.id
    assert Activity.objects.get(id=ride.id).revision == 0


def test_cropping_the_merged_one_derives_the_primary_again(api, pair):
    ride, worn = pair
    with freeze_time(NOW):
        api.post(f"/api/v1/activities/{worn.id}/merge")
    _drain()
    # Every point up to the watch's last reading (it stopped a couple of seconds earlier).
    assert not np.isnan(tracks.decode(outputs(ride.id)["track"]).hr[:260]).any()
    with freeze_time(NOW):
        answer = api.post(f"/api/v1/activities/{worn.id}/crop",
                          json.dumps({"start_s": 0, "end_s": 100}),
                          content_type="application/json")
    assert answer.status_code == 202, answer.content
    _drain()
    track = tracks.decode(outputs(ride.id)["track"])
    has_hr = ~np.isnan(track.hr)
    # The watch's first 100 s only: the ride's later points have no heart rate now.
    assert has_hr[:90].all() and not has_hr[110:].any()


def test_a_check_that_read_the_pair_before_the_merge_never_marks_the_merged_one(
        user, api, pair):
    ride, worn = pair
    with freeze_time(NOW):
        assert api.post(f"/api/v1/activities/{worn.id}/merge").status_code == 200
    # A run that found its pairs before the merge committed writes them after it.
    check.write_duplicates(user.id, [(ride.id, worn.id)])
    assert Activity.objects.get(id=worn.id).duplicate_of_id is None
    _drain()  # and the run the merge owed finds no pair
    assert Check.objects.get(user=user).pairs == []
    assert Activity.objects.get(id=worn.id).duplicate_of_id is None
