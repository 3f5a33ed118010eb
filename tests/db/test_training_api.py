"""The training API: thresholds (owner only, bad input refused with a message), the
fitness series and the power curve from the last built book, "current" false while a
rebuild is owed, and nobody else's data ever visible."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from freezegun import freeze_time

from activities import ingest, tokens
from reconciler.sweep import sweep_once
from tests.conftest import NOW
from tests.training import ride_fit
from training.models import Threshold

pytestmark = pytest.mark.django_db


def post(client: Client, body) -> object:
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post("/api/v1/thresholds", data, content_type="application/json")


def settle(clock) -> None:
    for _ in range(30):
        if not sweep_once().found_work:
            return
        clock.tick(timedelta(seconds=1))
    raise AssertionError("the sweep did not settle")


def ride(user, day: date, watts: float) -> int:
    start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=7)
    return ingest.accept(ride_fit(start, watts=watts), owner=user,
                         original_name=f"{day}.fit").activity.id


def test_thresholds_are_posted_listed_and_replaced_on_the_same_day(api):
    with freeze_time(NOW):
        made = post(api, {"kind": "ftp", "value": 250, "from": "2025-03-01"})
        assert made.status_code == 201
        assert made.json() | {"id": 0} == {"id": 0, "kind": "ftp", "value": 250,
                                           "from": "2025-03-01"}
        again = post(api, {"kind": "ftp", "value": 260, "from": "2025-03-01"})
        assert again.status_code == 200 and again.json()["id"] == made.json()["id"]
        assert post(api, {"kind": "lthr", "value": 168, "from": "2025-01-01"}).status_code == 201
        listed = api.get("/api/v1/thresholds").json()["thresholds"]
    assert [(t["kind"], t["value"], t["from"]) for t in listed] == [
        ("ftp", 260, "2025-03-01"), ("lthr", 168, "2025-01-01")]


@pytest.mark.parametrize("body", [
    b"not json", [], {"kind": "vo2", "value": 50, "from": "2025-01-01"},
    {"kind": {}, "value": 0, "from": "2000-01-01"},  # found by schemathesis: was a 500
    {"kind": "ftp", "value": 5000, "from": "2025-01-01"},
    {"kind": "ftp", "value": "250", "from": "2025-01-01"},
    {"kind": "ftp", "value": True, "from": "2025-01-01"},
    {"kind": "ftp", "value": 250.5, "from": "2025-01-01"},
    {"kind": "hr_max", "value": 99, "from": "2025-01-01"},
    {"kind": "ftp", "value": 250, "from": "2025-02-30"},
    {"kind": "ftp", "value": 250, "from": "1.3.2025"},
    {"kind": "ftp", "value": 250},
    {"kind": "ftp", "value": 250, "from": "2025-01-01", "to": "2025-02-01"},
])
def test_a_bad_threshold_is_refused_with_a_message_and_nothing_stored(api, body):
    answer = post(api, body)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"]
    assert not Threshold.objects.exists()


def test_without_a_token_nothing_is_answered(user):
    anonymous = Client()
    for url in ("/api/v1/thresholds", "/api/v1/fitness", "/api/v1/power-curve"):
        assert anonymous.get(url).status_code == 401
    assert post(anonymous, {"kind": "ftp", "value": 250, "from": "2025-01-01"}
                ).status_code == 401
    assert not Threshold.objects.exists()


@pytest.mark.parametrize("query", ["from=2025-13-01", "to=yesterday",
                                   "from=2026-01-10&to=2026-01-01",
                                   "from=2000-01-01&to=2026-01-01", "to=0001-01-05"])
def test_a_bad_fitness_range_is_refused(api, query):
    answer = api.get(f"/api/v1/fitness?{query}")
    assert answer.status_code == 400 and answer.json()["error"]["message"]


def test_a_bad_power_curve_range_is_refused(api):
    assert api.get("/api/v1/power-curve?range=30d").status_code == 400


def test_fitness_and_power_curve_are_the_owners_alone_and_say_when_not_current(
        api, user, other_user):
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    with freeze_time(NOW) as clock:
        post(api, {"kind": "ftp", "value": 250, "from": "2025-01-01"})
        first = ride(user, date(2026, 1, 5), 200)
        ride(user, date(2025, 9, 1), 300)  # outside the last 90 days
        settle(clock)
        fitness = api.get("/api/v1/fitness").json()
        # 90 days up to today by default; the series starts with the first activity.
        assert fitness["current"] is True
        assert fitness["to"] == "2026-01-15" and fitness["from"] == "2025-10-18"
        assert [d["date"] for d in fitness["days"]][0] == "2025-10-18"
        assert len(fitness["days"]) == 90
        by_day = {d["date"]: d for d in fitness["days"]}
        assert by_day["2026-01-05"]["load"] == pytest.approx(0.5 * 0.8**2 * 100)
        assert by_day["2026-01-06"]["form"] == pytest.approx(
            by_day["2026-01-05"]["fitness"] - by_day["2026-01-05"]["fatigue"], abs=0.011)
        recent = api.get("/api/v1/power-curve?range=90d").json()["points"]
        assert {p["activity_id"] for p in recent} == {first}
        assert {p["duration_s"]: p["watts"] for p in recent}[60] == 200.0
        whole = api.get("/api/v1/power-curve?range=all").json()["points"]
        assert {p["duration_s"]: p["watts"] for p in whole}[60] == 300.0

        # Mallory sees none of it, and her threshold does not touch alice's book.
        assert mallory.get("/api/v1/thresholds").json()["thresholds"] == []
        assert mallory.get("/api/v1/fitness").json()["days"] == []
        assert mallory.get("/api/v1/power-curve").json()["points"] == []
        assert post(mallory, {"kind": "ftp", "value": 100, "from": "2025-01-01"}
                    ).status_code == 201
        assert api.get("/api/v1/fitness").json()["current"] is True
        assert len(api.get("/api/v1/thresholds").json()["thresholds"]) == 1

        # A threshold owes a rebuild: the last build answers, not current, until it runs.
        post(api, {"kind": "ftp", "value": 200, "from": "2026-01-01"})
        pending = api.get("/api/v1/fitness").json()
        assert pending["current"] is False and pending["days"] == fitness["days"]
        settle(clock)
        rebuilt = api.get("/api/v1/fitness").json()
    assert rebuilt["current"] is True
    assert {d["date"]: d for d in rebuilt["days"]}["2026-01-05"]["load"] == pytest.approx(50.0)


def test_the_series_runs_to_today_from_a_book_built_days_ago(api, user):
    with freeze_time(NOW) as clock:
        post(api, {"kind": "ftp", "value": 250, "from": "2025-01-01"})
        ride(user, date(2026, 1, 10), 250)
        settle(clock)
        built = {d["date"]: d for d in api.get("/api/v1/fitness").json()["days"]}
    with freeze_time(NOW + timedelta(days=5)):
        later = api.get("/api/v1/fitness?from=2026-01-10").json()
    days = {d["date"]: d for d in later["days"]}
    assert max(days) == "2026-01-20" and later["current"] is True
    assert all(days[d] == built[d] for d in built if d >= "2026-01-10")
    # Each day past the build decays: no load, fitness and fatigue falling.
    tail = [days[f"2026-01-{n}"] for n in range(15, 21)]
    assert all(d["load"] == 0 for d in tail)
    assert all(a["fitness"] > b["fitness"] and a["fatigue"] > b["fatigue"]
               for a, b in zip(tail, tail[1:], strict=False))


def _matches(response, path: str, method: str = "get") -> None:
    """The answer validates against the OpenAPI document's schema for its status."""
    import jsonschema
    from referencing import Registry, Resource

    from settings import openapi

    document = openapi.document()
    schema = (document["paths"][path][method]["responses"][str(response.status_code)]
              ["content"]["application/json"]["schema"])
    registry = Registry().with_resource("cairn", Resource.from_contents(
        {**document, "$schema": "https://json-schema.org/draft/2020-12/schema"}))
    jsonschema.Draft202012Validator({"$ref": "cairn#" + schema["$ref"][1:]},
                                    registry=registry).validate(response.json())


def test_the_answers_match_the_openapi_document(api, user):
    with freeze_time(NOW) as clock:
        _matches(post(api, {"kind": "ftp", "value": 250, "from": "2025-01-01"}),
                 "/api/v1/thresholds", "post")
        _matches(post(api, {"kind": "ftp"}), "/api/v1/thresholds", "post")
        ride(user, date(2026, 1, 5), 200)
        settle(clock)
        _matches(api.get("/api/v1/thresholds"), "/api/v1/thresholds")
        _matches(api.get("/api/v1/fitness?from=2026-01-01"), "/api/v1/fitness")
        _matches(api.get("/api/v1/fitness?from=x"), "/api/v1/fitness")
        _matches(api.get("/api/v1/power-curve?range=90d"), "/api/v1/power-curve")
        _matches(api.get("/api/v1/power-curve?range=x"), "/api/v1/power-curve")
