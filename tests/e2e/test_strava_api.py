"""The Strava-compatible v3 endpoints, as Strava documents them."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from freezegun import freeze_time

from activities import strava, tokens
from reconciler import sweep
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def token(user):
    return tokens.create(user)


def _post(client, data, **params):
    return client.post("/api/v3/uploads", {"file": SimpleUploadedFile("ride.gpx", data),
                                           **params})


def test_token_as_access_token_in_the_query_not_in_the_body(token):
    query = Client().post(f"/api/v3/uploads?access_token={token}&data_type=gpx",
                          {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    assert query.status_code == 201
    # The token is checked before the body is read, so a form field cannot carry it.
    form = _post(Client(), factories.gpx(), access_token=token, data_type="gpx")
    assert form.status_code == 401
    refused = Client().post("/api/v3/uploads?access_token=nope",
                            {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    assert refused.status_code == 401
    assert refused.json() == {"message": "Authorization Error", "errors": [
        {"resource": "Athlete", "field": "access_token", "code": "invalid"}]}


def test_upload_answers_in_stravas_shape_and_sentences(token):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    with freeze_time(NOW):
        body = _post(client, factories.gpx(seed=0), data_type="gpx", external_id="x-1",
                     name="Lunch ride", trainer="1").json()
    assert set(body) == {"id", "id_str", "external_id", "error", "status", "activity_id"}
    assert body["id_str"] == str(body["id"])
    assert body["external_id"] == "x-1"
    assert body["status"] == "Your activity is still being processed."
    assert body["activity_id"] is None and body["error"] is None
    with freeze_time(NOW):
        sweep.drain()
    ready = client.get(f"/api/v3/uploads/{body['id']}").json()
    assert ready["status"] == "Your activity is ready."
    activity = client.get(f"/api/v3/activities/{ready['activity_id']}").json()
    assert activity["name"] == "Lunch ride"
    assert activity["trainer"] is True
    assert activity["sport_type"] == "Ride"  # the test GPX says <type>cycling</type>
    assert activity["distance"] > 0 and activity["moving_time"] > 0
    assert activity["start_date"] == "2026-01-10T07:00:00Z"  # factories.START, seed 0


def test_failed_upload_reports_the_error_sentence(token):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    with freeze_time(NOW):
        body = _post(client, factories.gpx()[:250], data_type="gpx").json()
        sweep.drain()
    failed = client.get(f"/api/v3/uploads/{body['id']}").json()
    assert failed["status"] == "There was an error processing your activity."
    assert failed["error"] and failed["activity_id"] is None
    assert client.get("/api/v3/activities/1").status_code == 404


@pytest.mark.parametrize(("sport", "sub_sport", "expected"), [
    ("cycling", None, "Ride"),
    ("cycling", "indoor_cycling", "VirtualRide"),  # a trainer ride
    ("running", "treadmill", "Run"),
    ("running", "trail", "TrailRun"),
    ("swimming", "lap_swimming", "Swim"),
    ("stand_up_paddleboarding", None, "StandUpPaddling"),
    ("multisport", None, "Workout"),  # Strava has no multisport type
    (None, None, "Workout"),
])
def test_sport_types(sport, sub_sport, expected):
    assert strava.sport_type(sport, sub_sport) == expected


def test_over_the_rate_is_429_with_retry_after_as_in_v1(token, settings):
    settings.CAIRN_UPLOADS_PER_MINUTE = 1
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert _post(client, factories.gpx()).status_code == 201
    refused = _post(client, factories.gpx(points=61))
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert refused.json()["errors"][0]["code"].startswith("RateLimited")


def _ready_rides(user, starts):
    from activities import ingest
    from activities.models import Activity

    with freeze_time(NOW):
        ids = [ingest.accept(factories.gpx(start=s), owner=user).activity.id for s in starts]
        sweep.drain()
    return [Activity.objects.get(id=i) for i in ids]


def test_athlete_activities_are_summary_activities_newest_first_in_pages(user, token,
                                                                          other_user):
    from datetime import timedelta

    from activities import ingest

    rides = _ready_rides(user, [NOW - timedelta(days=d) for d in (3, 1, 2)])
    _ready_rides(other_user, [NOW - timedelta(days=1)])
    with freeze_time(NOW):  # not processed yet: Strava would not list it
        ingest.accept(factories.gpx(), owner=user)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = client.get("/api/v3/athlete/activities").json()
    assert [a["id"] for a in body] == [rides[1].id, rides[2].id, rides[0].id]
    first = body[0]
    assert first["resource_state"] == 2 and "description" not in first
    assert first["sport_type"] == "Ride" and first["type"] == "Ride"
    assert first["distance"] > 0 and first["start_date"].startswith(
        (NOW - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    assert first["map"]["summary_polyline"] and first["map"]["polyline"] is None
    pages = [[a["id"] for a in client.get(f"/api/v3/athlete/activities?per_page=2&page={p}")
              .json()] for p in (1, 2, 3)]
    assert pages == [[rides[1].id, rides[2].id], [rides[0].id], []]


def test_athlete_activities_before_and_after_are_epoch_seconds(user, token):
    from datetime import timedelta

    rides = _ready_rides(user, [NOW - timedelta(days=d) for d in (3, 2, 1)])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    cut = int((NOW - timedelta(days=2, hours=1)).timestamp())

    def ids(query):
        return [a["id"] for a in client.get(f"/api/v3/athlete/activities?{query}").json()]

    assert ids(f"before={cut}") == [rides[0].id]
    # Strava lists oldest first when only `after` is given (what a sync from a date wants).
    assert ids(f"after={cut}") == [rides[1].id, rides[2].id]
    assert ids(f"after={cut}&before={int(NOW.timestamp()) - 36 * 3600}") == [rides[1].id]


@pytest.mark.parametrize("query", ["per_page=201", "per_page=0", "page=0", "page=x",
                                   "before=soon", "after=1e400"])
def test_athlete_activities_refuses_bad_paging_as_strava_does(token, query):
    response = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(
        f"/api/v3/athlete/activities?{query}")
    assert response.status_code == 400
    assert response.json()["message"] == "Bad Request"


def test_athlete_activities_show_the_owners_sport_and_name(user, token):
    from activities.models import Activity

    ride = _ready_rides(user, [NOW])[0]
    Activity.objects.filter(id=ride.id).update(user_sport="running", name="Renamed")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    listed = client.get("/api/v3/athlete/activities").json()[0]
    assert (listed["name"], listed["sport_type"]) == ("Renamed", "Run")
    assert client.get(f"/api/v3/activities/{ride.id}").json()["sport_type"] == "Run"
