"""Gear: its API (owner only, bad input refused with a message), an activity's gear_id
(PATCH: yours or null), the default gear of a new activity's sport, and totals kept by
the training book equal to the sums of their activities' own figures after random
assignments, edits and deletions (integer tenths: exact)."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from django.test import Client
from freezegun import freeze_time

from activities import deletion, ingest, strava, tokens
from activities.models import Activity, Derived, Gear
from reconciler.sweep import sweep_once
from tests import factories
from tests.conftest import NOW
from training.models import Book

pytestmark = pytest.mark.django_db


def send(client: Client, method: str, url: str, body) -> object:
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def settle(clock) -> None:
    for _ in range(40):
        if not sweep_once().found_work:
            return
        clock.tick(timedelta(seconds=1))
    raise AssertionError("the sweep did not settle")


def new_gear(client: Client, **body) -> dict:
    answer = send(client, "post", "/api/v1/gear", {"name": "Shoes", "kind": "shoes", **body})
    assert answer.status_code == 201, answer.content
    return answer.json()


def test_gear_is_added_listed_edited_and_deleted(api):
    made = new_gear(api, sports=["running", "running", "hiking"], retire_at_km=800)
    assert made | {"id": 0} == {"id": 0, "name": "Shoes", "kind": "shoes",
                                "sports": ["hiking", "running"], "retired": False,
                                "retire_at_km": 800, "distance_m": 0.0, "moving_s": 0.0,
                                "count": 0}
    url = f"/api/v1/gear/{made['id']}"
    edited = send(api, "patch", url, {"name": " Old shoes ", "retired": True})
    assert edited.status_code == 200
    assert (edited.json()["name"], edited.json()["retired"]) == ("Old shoes", True)
    assert [g["id"] for g in api.get("/api/v1/gear").json()["gear"]] == [made["id"]]
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert api.get("/api/v1/gear").json()["gear"] == []


@pytest.mark.parametrize(("method", "body"), [
    ("post", {"kind": "shoes"}), ("post", {"name": "", "kind": "shoes"}),
    ("post", {"name": "x" * 101, "kind": "shoes"}), ("post", {"name": "A", "kind": "car"}),
    ("post", {"name": "A", "kind": "bike", "sports": ["cycling", "flying_carpet"]}),
    ("post", {"name": "A", "kind": "bike", "sports": "cycling"}),
    ("post", {"name": "A", "kind": "bike", "retire_at_km": 0}),
    ("post", {"name": "A", "kind": "bike", "retire_at_km": "500"}),
    ("post", {"name": "A", "kind": "bike", "colour": "red"}),
    ("post", ["A"]), ("patch", {}), ("patch", {"kind": "bike"}),
    ("patch", {"retired": "yes"}),
])
def test_bad_gear_is_refused_with_a_message(api, method, body):
    url = "/api/v1/gear"
    if method == "patch":
        url = f"/api/v1/gear/{new_gear(api)['id']}"
    answer = send(api, method, url, body)
    assert answer.status_code == 400 and answer.json()["error"]["message"]
    assert Gear.objects.filter(kind="bike").count() == 0


def test_another_users_gear_is_never_visible_nor_assignable(api, user, other_user):
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    mine = new_gear(api)
    with freeze_time(NOW) as clock:
        theirs = ingest.accept(factories.gpx(), owner=other_user,
                               original_name="r.gpx").activity.id
        settle(clock)
    url = f"/api/v1/gear/{mine['id']}"
    assert mallory.get("/api/v1/gear").json()["gear"] == []
    for method in ("get", "delete"):
        assert getattr(mallory, method)(url).status_code == 404
    assert send(mallory, "patch", url, {"name": "Mine now"}).status_code == 404
    refused = send(mallory, "patch", f"/api/v1/activities/{theirs}", {"gear_id": mine["id"]})
    assert refused.status_code == 400 and refused.json()["error"]["message"]
    assert Activity.objects.get(id=theirs).gear_id is None
    assert Gear.objects.get(id=mine["id"]).name == "Shoes"


def test_an_activity_takes_gear_by_patch_and_a_new_one_its_sports_default(api, user):
    bike = new_gear(api, name="Bike", kind="bike", sports=["cycling"])
    new_gear(api, name="Later bike", kind="bike", sports=["cycling"])  # not the oldest
    with freeze_time(NOW) as clock:
        first = ingest.accept(factories.gpx(), owner=user, original_name="a.gpx").activity.id
        settle(clock)
        assert Activity.objects.get(id=first).gear_id == bike["id"]
        shown = api.get(f"/api/v1/activities/{first}").json()
        assert shown["gear_id"] == bike["id"]
        assert strava.activity_dict(Activity.objects.get(id=first))["gear_id"] == \
            f"b{bike['id']}"
        assert send(api, "patch", f"/api/v1/activities/{first}",
                    {"gear_id": None}).status_code == 200
        assert Book.objects.get(user=user).needs_work  # in the edit's transaction
        assert send(api, "patch", f"/api/v1/activities/{first}",
                    {"gear_id": "1"}).status_code == 400
        send(api, "patch", f"/api/v1/gear/{bike['id']}", {"retired": True})
        second = ingest.accept(factories.gpx(), owner=user, original_name="b.gpx").activity.id
        settle(clock)
    assert Activity.objects.get(id=first).gear_id is None
    # The retired bike is no one's default: the later one is.
    assert Activity.objects.get(id=second).gear_id == bike["id"] + 1


def test_gear_totals_equal_the_sums_of_their_activities_after_random_changes(api, user):
    rng = random.Random(27)
    gear = [new_gear(api, name=f"G{n}", kind="other")["id"] for n in range(3)]
    with freeze_time(NOW) as clock:
        ids = [ingest.accept(factories.gpx(points=rng.randrange(20, 120),
                                           times=rng.random() > 0.3),
                             owner=user, original_name=f"{n}.gpx").activity.id
               for n in range(12)]
        settle(clock)
        for step in range(30):
            live = list(Activity.objects.live().filter(owner=user).values_list("id", flat=True))
            roll = rng.random()
            if roll < 0.6:
                send(api, "patch", f"/api/v1/activities/{rng.choice(live)}",
                     {"gear_id": rng.choice([*gear, None])})
            elif roll < 0.8:
                send(api, "patch", f"/api/v1/activities/{rng.choice(live)}",
                     {"sport": rng.choice(["running", "cycling", "hiking"])})
            elif roll < 0.95 and len(live) > 4:
                deletion.request(Activity.objects.filter(id=rng.choice(live)), now=NOW)
            elif len(gear) > 2:
                api.delete(f"/api/v1/gear/{gear.pop(rng.randrange(len(gear)))}")
            if step % 7 == 6:
                settle(clock)
        settle(clock)
        listed = {g["id"]: g for g in api.get("/api/v1/gear").json()["gear"]}
    summaries = {i: json.loads(bytes(d)) for i, d in Derived.objects.filter(
        deriver="summary", activity_id__in=ids).values_list("activity_id", "data")}
    expected = {g: [0, 0, 0] for g in gear}
    for activity in Activity.objects.live().filter(owner=user, gear__isnull=False):
        summary = summaries[activity.id]
        entry = expected[activity.gear_id]
        entry[0] += 1
        entry[1] += round(summary["distance_m"] * 10)
        entry[2] += round((summary["moving_s"] or 0) * 10)
    assert set(listed) == set(gear)
    assert sum(e[0] for e in expected.values()) > 0, "some activity kept gear"
    for g in gear:
        assert (listed[g]["count"], listed[g]["distance_m"], listed[g]["moving_s"]) == (
            expected[g][0], expected[g][1] / 10, expected[g][2] / 10), g


def test_an_activity_without_timestamps_counts_for_its_gear_and_has_no_load(api, user):
    from training.models import ActivityLoad, Day

    shoes = new_gear(api, sports=["cycling"])
    with freeze_time(NOW) as clock:
        undated = ingest.accept(factories.gpx(points=80, times=False), owner=user,
                                original_name="u.gpx").activity.id
        settle(clock)
        shown = api.get(f"/api/v1/gear/{shoes['id']}").json()
    row = ActivityLoad.objects.get(activity_id=undated)
    assert row.day is None and row.load is None and row.reason == "no_timestamps"
    summary = json.loads(bytes(Derived.objects.get(activity_id=undated, deriver="summary").data))
    assert summary["distance_m"] > 0
    assert (shown["count"], shown["distance_m"]) == (1, round(summary["distance_m"] * 10) / 10)
    assert not Day.objects.filter(user=user).exists()  # no dated activity: no series
