"""The owner's activities through the v1 API: the list (keyset pages and filters), edits
(kept by rebuilds), the original as uploaded, exports, and who may see what."""

import gzip
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from django.test import Client
from freezegun import freeze_time

from activities import tokens
from activities.models import Activity
from core import decode
from core import track as tracks
from reconciler import sweep
from reconciler.derivation import kind as activity_kind
from reconciler.derivation import resync
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


def _ready(upload, *, start=None, owner=None, times=True, at=NOW, **gpx):
    """A processed activity whose track starts at `start`, uploaded at `at`."""
    with freeze_time(at):
        accepted = upload(factories.gpx(start=start, times=times, **gpx), owner=owner)
        sweep.drain()
    return Activity.objects.get(id=accepted.activity.id)


def _all_pages(api, url):
    """Every page of the list, following `next`; the ids in order."""
    ids, pages = [], 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [a["id"] for a in body["activities"]]
        url, pages = body["next"], pages + 1
    return ids, pages


def _patch(client, activity_id, body, **headers):
    return client.patch(f"/api/v1/activities/{activity_id}", data=json.dumps(body),
                        content_type="application/json", **headers)


# -- the list ---------------------------------------------------------------------------

def test_list_is_newest_start_first_with_undated_ones_by_upload_time(api, upload):
    early = _ready(upload, start=NOW - timedelta(days=3))
    late = _ready(upload, start=NOW - timedelta(days=1))
    # No times in the file: placed by when it was uploaded (two days ago).
    undated = _ready(upload, times=False, at=NOW - timedelta(days=2))
    assert undated.start_time is None
    body = api.get("/api/v1/activities").json()
    assert [a["id"] for a in body["activities"]] == [late.id, undated.id, early.id]
    assert body["next"] is None
    # As the activity itself shows it: no name was given, so the derived title.
    shown = api.get(f"/api/v1/activities/{late.id}").json()["name"]
    assert shown and body["activities"][0]["name"] == shown
    assert body["activities"][0]["distance_m"] > 0


def test_pages_cover_every_activity_once_and_are_stable_under_inserts(api, upload):
    starts = [NOW - timedelta(hours=h) for h in range(1, 12)]
    made = [_ready(upload, start=s) for s in starts]
    # The same start twice: the id breaks the tie, so neither is skipped nor repeated.
    twin = _ready(upload, start=starts[4], lat0=47.0)
    expected = sorted([*made, twin], key=lambda a: (a.start_time, a.id), reverse=True)

    first = api.get("/api/v1/activities?limit=5").json()
    assert [a["id"] for a in first["activities"]] == [a.id for a in expected[:5]]
    assert urlsplit(first["next"]).path == "/api/v1/activities"
    assert parse_qs(urlsplit(first["next"]).query)["limit"] == ["5"]
    # Added meanwhile: a newer activity (before the cursor) and an older one (after it).
    newer = _ready(upload, start=NOW)
    older = _ready(upload, start=NOW - timedelta(days=30))
    rest, pages = _all_pages(api, first["next"])
    assert rest == [a.id for a in expected[5:]] + [older.id]
    assert pages == 2
    assert newer.id not in rest


def test_filters_by_sport_status_and_time(api, upload, user):
    ride = _ready(upload, start=NOW - timedelta(days=2))
    run = _ready(upload, start=NOW - timedelta(days=1))
    _patch(api, run.id, {"sport": "running"})
    with freeze_time(NOW):
        queued = upload(factories.gpx(start=NOW - timedelta(hours=1))).activity
        failed = upload(factories.gpx()[:200]).activity
    Activity.objects.filter(id=failed.id).update(status="failed", needs_work=False)

    def ids(query):
        response = api.get(f"/api/v1/activities?{query}")
        assert response.status_code == 200, response.content
        return [a["id"] for a in response.json()["activities"]]

    assert ids("sport=cycling") == [ride.id]
    assert ids("sport=running") == [run.id]
    assert ids("status=ready") == [run.id, ride.id]
    assert set(ids("status=queued")) == {queued.id}
    assert ids("status=failed") == [failed.id]
    assert ids("status=dead") == []

    activity_kind.claim_one(queued.id, now=NOW, owner="w-1")  # leased: shown as processing
    assert ids("status=processing") == [queued.id]
    assert ids("status=queued") == []
    after = (NOW - timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = (NOW - timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"after={after}&before={before}") == [run.id]
    assert ids(f"before={before}&sport=cycling") == [ride.id]


@pytest.mark.parametrize("query", [
    "limit=0", "limit=201", "limit=ten", "status=finished", "after=yesterday",
    "before=2026-13-01", "cursor=not-a-cursor", "cursor=WzEsMl0", "sport=" + "x" * 65,
    "sport=bogus",
])
def test_bad_list_parameters_are_400_with_a_message(api, query):
    response = api.get(f"/api/v1/activities?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "BadRequest"
    assert response.json()["error"]["message"]


def test_a_sport_is_known_or_one_of_the_owners_own(api, upload, other_user):
    own = _ready(upload)
    Activity.objects.filter(id=own.id).update(sport="kitesurf session")  # a GPX <type>
    theirs = _ready(upload, owner=other_user)
    Activity.objects.filter(id=theirs.id).update(sport="underwater hockey")
    assert api.get("/api/v1/activities?sport=kitesurf%20session").json()["activities"][0][
        "id"] == own.id
    assert api.get("/api/v1/activities?sport=yoga").json()["activities"] == []  # FIT's
    response = api.get("/api/v1/activities?sport=underwater%20hockey")  # not alice's
    assert response.status_code == 400
    assert "'underwater hockey' is not a sport" in response.json()["error"]["message"]


def test_list_shows_only_the_owners_activities_and_needs_a_token(api, upload, other_user):
    mine = _ready(upload)
    _ready(upload, owner=other_user)
    assert [a["id"] for a in api.get("/api/v1/activities").json()["activities"]] == [mine.id]
    assert Client().get("/api/v1/activities").status_code == 401


# -- edits -------------------------------------------------------------------------------

def test_patch_edits_name_sport_and_description(api, upload):
    activity = _ready(upload)
    response = _patch(api, activity.id, {"name": "  Col du Galibier  ", "sport": "running",
                                         "description": "Windy at the top."})
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["sport"], body["description"]) == (
        "Col du Galibier", "running", "Windy at the top.")
    assert api.get(f"/api/v1/activities/{activity.id}").json()["sport"] == "running"
    # One field alone leaves the others; "" shows the file's own sport again.
    body = _patch(api, activity.id, {"sport": ""}).json()
    assert (body["name"], body["sport"]) == ("Col du Galibier", "cycling")


@pytest.mark.parametrize("body", [
    {}, [], "name", {"name": 3}, {"name": ""}, {"name": "   "}, {"name": "x" * 256},
    {"name": "a\nb"}, {"description": "d" * 10_001}, {"sport": "quidditch"},
    {"sport": None}, {"distance_m": 1}, {"name": "ok", "owner": 2}, {"name": "\ud800"},
])
def test_bad_edits_are_400_and_change_nothing(api, upload, body):
    activity = _ready(upload)
    response = _patch(api, activity.id, body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["message"]
    activity.refresh_from_db()
    assert (activity.name, activity.user_sport, activity.description) == ("", "", "")


def test_a_body_that_is_not_json_is_400(api, upload):
    activity = _ready(upload)
    response = api.patch(f"/api/v1/activities/{activity.id}", data=b"\xff{name",
                         content_type="application/json")
    assert response.status_code == 400


def test_a_forced_resync_keeps_the_owners_edits(api, upload):
    activity = _ready(upload)
    _patch(api, activity.id, {"name": "Mine", "sport": "hiking", "description": "Kept."})
    with freeze_time(NOW + timedelta(minutes=5)):
        resync.resync(Activity.objects.filter(id=activity.id), now=NOW + timedelta(minutes=5))
        assert sweep.drain() == 1
    activity.refresh_from_db()
    assert activity.processed_at == NOW + timedelta(minutes=5)  # it was rebuilt
    assert activity.sport == "cycling"  # the file's, rewritten by the rebuild
    body = api.get(f"/api/v1/activities/{activity.id}").json()
    assert (body["name"], body["sport"], body["description"]) == ("Mine", "hiking", "Kept.")


def test_a_session_needs_the_csrf_token_to_edit(user, upload):
    activity = _ready(upload)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    assert _patch(browser, activity.id, {"name": "Forged"}).status_code == 403
    activity.refresh_from_db()
    assert activity.name == ""


# -- the original ------------------------------------------------------------------------

def test_original_is_the_bytes_as_uploaded_with_a_safe_attachment_name(api, upload):
    data = factories.gpx()
    with freeze_time(NOW):
        activity = upload(data).activity
    _patch(api, activity.id, {"name": 'Évian "loop"; x=1 \\ 走'})
    response = api.get(f"/api/v1/activities/{activity.id}/original")
    assert response.status_code == 200
    assert response.content == data
    assert response["Content-Type"] == "application/gpx+xml"
    # ASCII: the accent dropped, quotes and separators replaced, the trailing "\ 走"
    # (nothing ASCII left but separators) trimmed; the name as written in filename*.
    assert response["Content-Disposition"] == (
        'attachment; filename="Evian _loop_ x_1.gpx"; '
        "filename*=UTF-8''%C3%89vian%20%22loop%22%3B%20x%3D1%20%5C%20%E8%B5%B0.gpx")


def test_a_gzipped_original_comes_back_gzipped(api, upload):
    data = gzip.compress(factories.gpx())
    with freeze_time(NOW):
        activity = upload(data).activity
    Activity.objects.filter(id=activity.id).update(name="")
    response = api.get(f"/api/v1/activities/{activity.id}/original")
    assert response.content == data
    assert response["Content-Type"] == "application/gzip"
    # Unnamed and not processed yet: the uploaded file's name ("ride.gpx", as the fixture
    # sends it), its suffix not doubled.
    assert response["Content-Disposition"] == 'attachment; filename="ride.gpx.gz"'


def test_a_name_cannot_inject_a_header(api, upload):
    with freeze_time(NOW):
        activity = upload().activity
    # Set directly: the API refuses control characters, an import might not.
    Activity.objects.filter(id=activity.id).update(name="a\r\nSet-Cookie: x=1")
    response = api.get(f"/api/v1/activities/{activity.id}/original")
    assert response.status_code == 200
    assert "\n" not in response["Content-Disposition"]
    assert "Set-Cookie" not in response.headers
    assert response["Content-Disposition"].startswith('attachment; filename="aSet-Cookie_ x_1.gpx"')


# -- exports -----------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,media_type", [
    ("gpx", "application/gpx+xml"), ("tcx", "application/vnd.garmin.tcx+xml"),
    ("fit", "application/vnd.ant.fit")])
def test_an_export_is_the_stored_track_with_the_name_and_sport_you_gave(api, upload, fmt,
                                                                          media_type):
    activity = _ready(upload, points=40)
    _patch(api, activity.id, {"name": "Lunch walk", "sport": "walking"})
    response = api.get(f"/api/v1/activities/{activity.id}/export?format={fmt}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == media_type
    assert response["Content-Disposition"] == f'attachment; filename="Lunch walk.{fmt}"'
    stored = activity.derived.get(deriver="track")
    track, back = tracks.decode(bytes(stored.data)), decode.decode(response.content, fmt)
    assert back.n == track.n == 40
    assert np.allclose(back.lat, track.lat, atol=1e-7)
    assert np.array_equal(back.hr, track.hr)
    assert back.sport == ("walking" if fmt != "tcx" else None)
    # The original is not touched: it is still the file as uploaded.
    assert api.get(f"/api/v1/activities/{activity.id}/original").content.startswith(b"<?xml")


def test_an_export_in_no_known_format_is_a_400(api, upload):
    activity = _ready(upload)
    response = api.get(f"/api/v1/activities/{activity.id}/export?format=kml")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "BadFormat", "message": "There is no 'kml' format: choose gpx, tcx, fit."}


def test_a_format_that_cannot_hold_the_activity_is_a_422_with_a_sentence(api, upload):
    activity = _ready(upload, times=False)
    response = api.get(f"/api/v1/activities/{activity.id}/export?format=fit")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "CannotExport"
    assert "export it as GPX" in response.json()["error"]["message"]
    assert api.get(f"/api/v1/activities/{activity.id}/export?format=gpx").status_code == 200


def test_an_activity_not_processed_yet_has_no_export(api, upload):
    with freeze_time(NOW):
        activity = upload().activity
    response = api.get(f"/api/v1/activities/{activity.id}/export?format=gpx")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotReady"


# -- another user's ids ------------------------------------------------------------------

@pytest.mark.parametrize("method,suffix", [
    ("get", ""), ("patch", ""), ("delete", ""), ("get", "/original"), ("get", "/route"),
    ("get", "/timeline"), ("post", "/reprocess"), ("get", "/export?format=fit"),
])
def test_another_users_activity_is_404_on_every_endpoint(upload, other_user, method, suffix):
    activity = _ready(upload)
    intruder = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    url = f"/api/v1/activities/{activity.id}{suffix}"
    if method == "get":
        response = intruder.get(url)
    else:
        response = getattr(intruder, method)(url, data=json.dumps({"name": "Mine now"}),
                                             content_type="application/json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotFound"
    activity.refresh_from_db()
    assert activity.name == "" and activity.deleted_at is None
    assert activity.needs_work is False
