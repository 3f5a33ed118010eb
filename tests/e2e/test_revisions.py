"""Revisions through the API and the loop: a crop derives every output again from the
cropped track, restoring the original gives back every output byte for byte (and the
original file was never touched), a split makes a second activity whose totals add up
with the first's, and the books (totals) follow."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from freezegun import freeze_time

from activities import tokens
from activities.models import Activity, Derived
from reconciler import sweep
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


def _post(api, url, body=None):
    """At the tests' clock, so that the work a revision owes is due when they sweep."""
    with freeze_time(NOW):
        return api.post(url, data=json.dumps(body) if body is not None else "",
                        content_type="application/json")


def _ready(upload, **gpx) -> Activity:
    with freeze_time(NOW):
        accepted = upload(factories.gpx(**gpx))
        sweep.drain()
    return Activity.objects.get(id=accepted.activity.id)


def _outputs(activity_id: int) -> dict[str, bytes]:
    return {row.deriver: bytes(row.data) for row in
            Derived.objects.filter(activity_id=activity_id, data__isnull=False)}


def _summary(api, activity_id: int) -> dict:
    return api.get(f"/api/v1/activities/{activity_id}").json()


def test_crop_then_restore_gives_back_every_output_byte_for_byte(api, upload):
    activity = _ready(upload, points=240, step_s=5)
    first_build, whole = _outputs(activity.id), _summary(api, activity.id)
    original = api.get(f"/api/v1/activities/{activity.id}/original").content

    response = _post(api, f"/api/v1/activities/{activity.id}/crop",
                     {"start_s": 300, "end_s": 900})
    assert response.status_code == 202, response.content
    assert response.json()["revision"] == 1
    with freeze_time(NOW):
        sweep.drain()
    cropped = _summary(api, activity.id)
    assert cropped["status"] == "ready"
    assert cropped["elapsed_s"] == 600
    assert cropped["distance_m"] < whole["distance_m"] * 0.6
    changed = _outputs(activity.id)
    assert all(changed[name] != first_build[name] for name in ("track", "summary", "route"))

    revisions = api.get(f"/api/v1/activities/{activity.id}/revisions").json()
    assert revisions["current"] == 1
    assert [(r["number"], r["action"], r["current"]) for r in revisions["revisions"]] == [
        (0, "original", False), (1, "crop", True)]
    assert revisions["revisions"][1]["detail"] == {"start_s": 300, "end_s": 900}

    response = _post(api, f"/api/v1/activities/{activity.id}/revisions/0/restore")
    assert response.status_code == 202
    with freeze_time(NOW):
        sweep.drain()
    assert _outputs(activity.id) == first_build
    assert _summary(api, activity.id)["revision"] == 2
    assert api.get(f"/api/v1/activities/{activity.id}/original").content == original


def test_a_split_makes_two_activities_whose_totals_add_up(api, upload):
    activity = _ready(upload, points=240, step_s=5)
    response = _post(api, f"/api/v1/activities/{activity.id}/split", {"at_s": 500})
    assert response.status_code == 202, response.content
    new_id = response.json()["new_activity"]["id"]
    assert response.json()["new_activity"]["split_from"] == activity.id
    with freeze_time(NOW):
        sweep.drain()
    whole_crop = _outputs(activity.id)  # the first part, derived from the edited track
    assert whole_crop
    one, two = _summary(api, activity.id), _summary(api, new_id)
    assert one["status"] == two["status"] == "ready"
    assert one["elapsed_s"] == 500 and two["elapsed_s"] == 1195 - 500
    # Restore the first part to its original: the whole again; the second part stays.
    listed = api.get("/api/v1/activities").json()["activities"]
    assert {a["id"] for a in listed} == {activity.id, new_id}
    _post(api, f"/api/v1/activities/{activity.id}/revisions/0/restore")
    with freeze_time(NOW):
        sweep.drain()
    whole = _summary(api, activity.id)
    assert one["distance_m"] + two["distance_m"] == pytest.approx(whole["distance_m"], abs=0.2)
    assert one["moving_s"] + two["moving_s"] == pytest.approx(whole["moving_s"], abs=0.2)


def test_the_same_file_uploaded_again_still_finds_the_first_part(api, upload, user):
    from activities import ingest

    data = factories.gpx(points=100, step_s=5)
    with freeze_time(NOW):
        first = upload(data).activity
        sweep.drain()
    part = _post(api, f"/api/v1/activities/{first.id}/split", {"at_s": 200}).json()
    again = ingest.accept(data, owner=user, original_name="ride.gpx")
    assert again.activity.id == first.id != part["new_activity"]["id"]
    assert not again.created


def test_totals_follow_a_crop(api, upload):
    activity = _ready(upload, points=240, step_s=5)
    with freeze_time(NOW):
        sweep.drain()
        before = api.get("/api/v1/totals?period=year").json()["totals"][0]
        _post(api, f"/api/v1/activities/{activity.id}/crop", {"start_s": 0, "end_s": 600})
        sweep.drain()
        after = api.get("/api/v1/totals?period=year").json()["totals"][0]
    cropped = _summary(api, activity.id)
    assert after["count"] == before["count"] == 1
    assert after["distance_m"] == pytest.approx(cropped["distance_m"], abs=1)
    assert after["distance_m"] < before["distance_m"]


@pytest.mark.parametrize("suffix,body", [
    ("crop", {"start_s": "10", "end_s": 20}), ("crop", {"start_s": 10}),
    ("split", {"at_s": True}), ("remove", [1, 2]), ("split", {"at_s": float("nan")}),
    ("split", {"at_s": 10 ** 400}), ("crop", {"start_s": 0, "end_s": 1e300}),
])
def test_bad_bodies_are_a_400_with_a_sentence(api, upload, suffix, body):
    activity = _ready(upload)
    response = api.post(f"/api/v1/activities/{activity.id}/{suffix}",
                        data=json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    assert Activity.objects.get(id=activity.id).revision == 0


def test_what_cannot_apply_is_a_422_and_changes_nothing(api, upload):
    activity = _ready(upload, times=False)
    response = _post(api, f"/api/v1/activities/{activity.id}/crop", {"start_s": 0, "end_s": 9})
    assert response.status_code == 422
    assert "no times" in response.json()["error"]["message"]
    timed = _ready(upload, points=30, step_s=5)
    response = _post(api, f"/api/v1/activities/{timed.id}/split", {"at_s": 10_000})
    assert response.status_code == 422
    assert Activity.objects.filter(revision__gt=0).count() == 0


def test_a_second_revision_waits_for_the_first_to_be_derived(api, upload):
    activity = _ready(upload, points=100, step_s=5)
    assert _post(api, f"/api/v1/activities/{activity.id}/crop",
                 {"start_s": 0, "end_s": 300}).status_code == 202
    response = _post(api, f"/api/v1/activities/{activity.id}/crop",
                     {"start_s": 0, "end_s": 100})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "NotReady"
    with freeze_time(NOW):
        sweep.drain()
    assert _post(api, f"/api/v1/activities/{activity.id}/crop",
                 {"start_s": 0, "end_s": 100}).status_code == 202


@pytest.mark.parametrize("method,suffix", [
    ("post", "/crop"), ("post", "/split"), ("post", "/remove"), ("get", "/revisions"),
    ("post", "/revisions/0/restore")])
def test_another_users_activity_is_a_404(upload, other_user, method, suffix):
    activity = _ready(upload)
    intruder = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    url = f"/api/v1/activities/{activity.id}{suffix}"
    response = intruder.get(url) if method == "get" else intruder.post(
        url, data=json.dumps({"at_s": 5}), content_type="application/json")
    assert response.status_code == 404
    assert Activity.objects.get(id=activity.id).revision == 0
    assert Activity.objects.count() == 1


def test_restoring_a_revision_that_does_not_exist_is_a_404(api, upload):
    activity = _ready(upload)
    response = _post(api, f"/api/v1/activities/{activity.id}/revisions/7/restore")
    assert response.status_code == 404
