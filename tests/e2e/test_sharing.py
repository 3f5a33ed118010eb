"""Sharing: visibility and links, what others read (and only when current), privacy zones
and trims cut out of it, the fence against a copy cut before a change, and 404 for
everything private."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from django.test import Client
from freezegun import freeze_time

from activities.models import Activity
from core.geo import haversine_m
from reconciler import sweep
from sharing import build
from sharing.models import PublicCopy, Zone
from tests import factories
from tests.conftest import NOW
from work import clock, kinds, leases, run
from work.outcomes import Done

pytestmark = pytest.mark.django_db

LAT0, LON0 = 46.0, 14.5
#: factories.gpx heads east 25 m a point.
M_PER_DEG_LON = 111_195.0 * np.cos(np.radians(LAT0))


@pytest.fixture
def ride(upload):
    with freeze_time(NOW):
        activity = upload(factories.gpx(points=200, lat0=LAT0, lon0=LON0)).activity
        sweep.drain()
    return activity


def share(api, activity, visibility="unlisted") -> str | None:
    answer = api.patch(f"/api/v1/activities/{activity.id}", {"visibility": visibility},
                       content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["visibility"] == visibility
    return answer.json().get("share_id")


def drain():
    # On the real clock, as the changes above were made.
    sweep.drain()


def points_of(kind: str, response) -> list[tuple[float, float]]:
    if kind == "route":
        return [tuple(p) for p in response.json()["points"]]
    if kind == "playback":
        body = response.json()
        return [(a, b) for a, b in zip(body["lat"], body["lon"], strict=True)
                if a is not None and b is not None]
    gpx = ET.fromstring(response.content)
    return [(float(p.get("lat")), float(p.get("lon"))) for p in gpx.iter()
            if p.tag.endswith("trkpt")]


def near(points, lat, lon, radius_m) -> list:
    if not points:
        return []
    array = np.array(points, dtype=float)
    d = haversine_m(array[:, 0], array[:, 1], np.full(len(array), lat), np.full(len(array), lon))
    return [p for p, m in zip(points, d, strict=True) if m <= radius_m]


SHARED_URLS = ("", "/route", "/playback", "/charts", "/preview.svg", "/export")


def test_visibility_gives_an_unguessable_link_and_a_new_one_when_shared_again(api, ride):
    assert api.get(f"/api/v1/activities/{ride.id}").json()["visibility"] == "private"
    first = share(api, ride)
    assert re.fullmatch(r"[A-Za-z0-9_-]{24}", first)  # 144 random bits
    assert share(api, ride, "public") == first  # still shared: the same link
    assert share(api, ride, "private") is None
    again = share(api, ride, "public")
    assert again and again != first
    assert Client().get(f"/api/v1/shared/{first}").status_code == 404
    bad = api.patch(f"/api/v1/activities/{ride.id}", {"visibility": "friends"},
                    content_type="application/json")
    assert bad.status_code == 400 and "visibility" in bad.json()["error"]["message"]


def test_a_copy_being_updated_is_logged_as_such_not_as_a_server_error(api, ride, caplog):
    share_id = share(api, ride)
    caplog.set_level("INFO")
    waiting = Client().get(f"/api/v1/shared/{share_id}")
    assert waiting.status_code == 503
    assert any("sharing.being_updated" in r.getMessage() and share_id in r.getMessage()
               for r in caplog.records)
    # Django's request log writes every 5xx as an error unless told it was logged.
    assert not [r for r in caplog.records if r.name == "django.request"]
    drain()
    missing = Client().get("/api/v1/shared/nosuchlink")
    assert missing.status_code == 404


def test_a_shared_activity_is_served_to_anyone_without_owner_only_fields(api, ride):
    share_id = share(api, ride)
    anonymous = Client()
    waiting = anonymous.get(f"/api/v1/shared/{share_id}/route")
    assert waiting.status_code == 503 and waiting["Retry-After"]
    assert waiting.json()["error"]["code"] == "BeingUpdated"
    drain()
    body = anonymous.get(f"/api/v1/shared/{share_id}").json()
    assert body["share_id"] == share_id and body["distance_m"] > 0
    for owner_only in ("id", "upload_id", "external_id", "versions", "progress", "gear_id",
                       "error", "point_count"):
        assert owner_only not in body
    for suffix in SHARED_URLS:
        answer = anonymous.get(f"/api/v1/shared/{share_id}{suffix}")
        assert answer.status_code == 200, (suffix, answer.content[:200])
        assert answer["Cache-Control"] == "no-store"
    assert anonymous.get(f"/s/{share_id}/").status_code == 200


def test_private_unknown_and_other_users_activities_are_404_everywhere(api, ride, other_user):
    from activities import tokens

    share_id = share(api, ride)
    drain()
    share(api, ride, "private")  # stops every shared read at once
    anonymous, mallory = Client(), Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    for who in (anonymous, mallory):
        for link in (share_id, "x" * 24, "nope"):
            for suffix in SHARED_URLS:
                assert who.get(f"/api/v1/shared/{link}{suffix}").status_code == 404
            assert who.get(f"/s/{link}/").status_code == 404
    owner_urls = [f"/api/v1/activities/{ride.id}{s}" for s in
                  ("", "/route", "/playback", "/charts", "/preview.svg", "/export",
                   "/original")]
    for url in owner_urls:
        assert mallory.get(url).status_code == 404, url
        assert anonymous.get(url).status_code == 401, url
    mallory_page = Client()
    mallory_page.force_login(other_user)
    for page in (f"/activities/{ride.id}/", f"/activities/{ride.id}/edit/"):
        assert mallory_page.get(page).status_code == 404
    # And the loop removes what others could read.
    drain()
    copy = PublicCopy.objects.get(activity=ride)
    assert copy.status == "withdrawn" and copy.route is None and copy.track is None


def test_a_deleted_activity_stops_every_shared_read_and_its_copy_goes(api, ride):
    share_id = share(api, ride)
    drain()
    assert Client().get(f"/api/v1/shared/{share_id}/route").status_code == 200
    assert api.delete(f"/api/v1/activities/{ride.id}").status_code == 204
    assert Client().get(f"/api/v1/shared/{share_id}/route").status_code == 404
    drain()
    assert not PublicCopy.objects.filter(activity=ride, route__isnull=False).exists()


def test_zones_are_checked_listed_and_deleted_by_their_owner_alone(api, other_user):
    from activities import tokens

    for bad in ({"lat": 46, "lon": 14.5, "radius_m": 99}, {"lat": 46, "lon": 14.5,
                "radius_m": 2001}, {"lat": 91, "lon": 0, "radius_m": 200},
                {"lat": "46", "lon": 14.5, "radius_m": 200}, {"lat": 46, "lon": 14.5},
                {"lat": 46, "lon": 14.5, "radius_m": 200, "x": 1}, [], None):
        answer = api.post("/api/v1/privacy-zones", bad, content_type="application/json")
        assert answer.status_code == 400, bad
    made = api.post("/api/v1/privacy-zones", {"lat": 46.0, "lon": 14.5, "radius_m": 250},
                    content_type="application/json")
    assert made.status_code == 201
    zone = made.json()
    assert set(zone) == {"id", "lat", "lon", "radius_m"} and zone["radius_m"] == 250
    assert api.get("/api/v1/privacy-zones").json()["zones"] == [zone]
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert mallory.get("/api/v1/privacy-zones").json()["zones"] == []
    assert mallory.delete(f"/api/v1/privacy-zones/{zone['id']}").status_code == 404
    assert api.delete(f"/api/v1/privacy-zones/{zone['id']}").status_code == 204
    assert api.delete(f"/api/v1/privacy-zones/{zone['id']}").status_code == 404
    assert Client().get("/api/v1/privacy-zones").status_code == 401


def test_trims_are_checked(api):
    for bad in ({"trim_start_m": -1}, {"trim_end_m": 2001}, {"trim_start_m": "5"}, {},
                {"other": 1}):
        assert api.patch("/api/v1/privacy", bad, content_type="application/json"
                         ).status_code == 400, bad
    set_ = api.patch("/api/v1/privacy", {"trim_start_m": 300}, content_type="application/json")
    assert set_.status_code == 200
    assert (set_.json()["trim_start_m"], set_.json()["trim_end_m"]) == (300, 0)


def test_a_zone_makes_shared_reads_wait_then_leaves_its_points_out(api, ride):
    share_id = share(api, ride)
    drain()
    anonymous = Client()
    before = {k: anonymous.get(f"/api/v1/shared/{share_id}/{k}") for k in
              ("route", "playback", "export")}
    assert near(points_of("route", before["route"]), LAT0, LON0, 300)
    effect = api.post("/api/v1/privacy/effect",
                      {"zone": {"lat": LAT0, "lon": LON0, "radius_m": 300}},
                      content_type="application/json").json()
    assert effect["activities"] == 1 and effect["points"] >= 12
    assert api.post("/api/v1/privacy-zones", {"lat": LAT0, "lon": LON0, "radius_m": 300},
                    content_type="application/json").status_code == 201
    # At once: never the old copy.
    for kind in ("route", "playback", "export", "charts", "preview.svg", ""):
        answer = anonymous.get(f"/api/v1/shared/{share_id}/{kind}".rstrip("/"))
        assert answer.status_code == 503, kind
    page = anonymous.get(f"/s/{share_id}/")
    assert page.status_code == 503 and b"being updated" in page.content
    # The owner still sees everything.
    own = api.get(f"/api/v1/activities/{ride.id}/route").json()
    assert near([tuple(p) for p in own["points"]], LAT0, LON0, 300)
    drain()
    for kind in ("route", "playback", "export"):
        answer = anonymous.get(f"/api/v1/shared/{share_id}/{kind}")
        assert answer.status_code == 200
        shown = points_of(kind, answer)
        assert shown and not near(shown, LAT0, LON0, 300), kind
    body = anonymous.get(f"/api/v1/shared/{share_id}").json()
    own_body = api.get(f"/api/v1/activities/{ride.id}").json()
    assert body["distance_m"] == own_body["distance_m"]  # the activity's own totals
    assert body["bbox"]["min_lon"] > LON0 + 250 / M_PER_DEG_LON


def test_trims_leave_out_the_first_and_last_metres(api, ride):
    share_id = share(api, ride)
    api.patch("/api/v1/privacy", {"trim_start_m": 500, "trim_end_m": 400},
              content_type="application/json")
    drain()
    shown = points_of("export", Client().get(f"/api/v1/shared/{share_id}/export"))
    end_lon = LON0 + 199 * 25 / M_PER_DEG_LON
    assert not near(shown, LAT0, LON0, 490) and not near(shown, LAT0, end_lon, 390)


def test_a_worker_that_cut_a_copy_before_a_change_cannot_store_it(api, ride):
    share_id = share(api, ride)
    kind = kinds.get("public")
    (lease,) = leases.claim(kind, limit=1, now=clock.now(), owner="slow", trigger="sweep")
    built = build.build(lease.row_id)  # cut with no zones
    assert api.post("/api/v1/privacy-zones", {"lat": LAT0, "lon": LON0, "radius_m": 300},
                    content_type="application/json").status_code == 201
    assert build.store(lease, built) is False  # refused by the privacy fence
    assert Client().get(f"/api/v1/shared/{share_id}/route").status_code == 503
    # Released as the kernel does: the change's new generation keeps it due.
    run.settle(kind, lease, Done(detail={"stored": False}))
    copy = PublicCopy.objects.get(id=lease.row_id)
    assert copy.route is None and copy.needs_work and copy.lease_token is None
    drain()  # the copy goes round again, cut with the zone
    shown = points_of("route", Client().get(f"/api/v1/shared/{share_id}/route"))
    assert shown and not near(shown, LAT0, LON0, 300)


def test_the_public_profile_lists_public_activities_only(api, upload, user):
    with freeze_time(NOW):
        shown = [upload(factories.gpx(points=30)).activity for _ in range(4)]
        sweep.drain()
    public = share(api, shown[0], "public")
    unlisted = share(api, shown[1], "unlisted")
    merged = share(api, shown[3], "public")
    # Merged into the first (as a merge leaves it): counted once, listed once.
    Activity.objects.filter(id=shown[3].id).update(merged_into=shown[0], merged_at=NOW)
    page = Client().get(f"/u/{user.username}/")
    assert page.status_code == 200
    assert f"/s/{public}/".encode() in page.content
    assert f"/s/{unlisted}/".encode() not in page.content
    assert f"/s/{merged}/".encode() not in page.content
    assert Client().get("/u/nobody-here/").status_code == 404


def test_a_new_track_is_cut_again(api, ride):
    share_id = share(api, ride)
    drain()
    assert Activity.objects.get(id=ride.id).share_id == share_id
    copy = PublicCopy.objects.get(activity=ride)
    assert copy.status == "ready" and not copy.needs_work and copy.version == build.VERSION


def test_webhook_events_say_the_visibility_and_carry_no_position(api, ride, user):
    from webhooks.models import Delivery, Subscription

    Subscription.objects.create(owner=user, url="https://example.com/hook",
                                events=["activity.updated"], secret="whsec_" + "A" * 43,
                                created_at=clock.now())
    share(api, ride, "public")
    body = Delivery.objects.get(event="activity.updated").body
    event = json.loads(body)
    assert event["data"]["visibility"] == "public"
    assert event["data"]["changes"] == {"visibility": "public"}
    for position in ("lat", "lon", "bbox", "polyline", "points", "latlng"):
        assert position not in body
    strava = api.get(f"/api/v3/activities/{ride.id}").json()
    assert (strava["private"], strava["visibility"]) == (False, "everyone")


def test_the_privacy_page_shows_what_a_zone_hides_before_saving_it(api, ride, user,
                                                                      other_user):
    share(api, ride)
    page = Client()
    page.force_login(user)
    assert page.get("/settings/").content.count(b"/settings/privacy/") >= 1
    assert b"zone-form" in page.get("/settings/privacy/").content
    shown = page.post("/settings/privacy/", {"what": "zone", "start": str(ride.id),
                                             "radius_m": "300", "action": "preview"})
    assert shown.status_code == 200 and b"privacy-effect" in shown.content
    assert b"Nothing is saved yet" in shown.content and not Zone.objects.exists()
    bad = page.post("/settings/privacy/", {"what": "zone", "lat": "46", "lon": "14.5",
                                           "radius_m": "50", "action": "save"})
    assert bad.status_code == 400 and b"radius_m" in bad.content
    saved = page.post("/settings/privacy/", {"what": "zone", "start": str(ride.id),
                                             "radius_m": "300", "action": "save"})
    assert saved.status_code == 302
    zone = Zone.objects.get(user=user)
    assert abs(zone.lat - LAT0) < 1e-4 and abs(zone.lon - LON0) < 1e-4
    trims = page.post("/settings/privacy/", {"what": "trims", "trim_start_m": "200",
                                             "trim_end_m": "0", "action": "save"})
    assert trims.status_code == 302
    assert api.get("/api/v1/privacy").json()["trim_start_m"] == 200
    mallory = Client()
    mallory.force_login(other_user)
    assert mallory.post(f"/settings/privacy/zones/{zone.id}/delete/").status_code == 404
    assert page.post(f"/settings/privacy/zones/{zone.id}/delete/").status_code == 302
    assert not Zone.objects.exists()
    assert Client().get("/settings/privacy/").status_code == 302  # to the login


def test_the_edit_page_shares_and_unshares(user, ride):
    page = Client()
    page.force_login(user)
    base = {"name": "Ride", "sport": "", "description": "", "gear": ""}
    assert page.post(f"/activities/{ride.id}/edit/", {**base, "visibility": "public"}
                     ).status_code == 302
    shared = Activity.objects.get(id=ride.id)
    assert shared.visibility == "public" and shared.share_id
    assert f"/s/{shared.share_id}/".encode() in page.get(f"/activities/{ride.id}/").content
    assert page.post(f"/activities/{ride.id}/edit/", {**base, "visibility": "private"}
                     ).status_code == 302
    assert Activity.objects.get(id=ride.id).share_id is None


def test_new_uploads_take_the_default_visibility_once_processed(api, upload, user):
    assert api.patch("/api/v1/privacy", {"default_visibility": "sideways"},
                     content_type="application/json").status_code == 400
    answer = api.patch("/api/v1/privacy", {"default_visibility": "public"},
                       content_type="application/json")
    assert answer.status_code == 200 and answer.json()["default_visibility"] == "public"
    activity = upload(factories.gpx(points=60)).activity
    assert api.get(f"/api/v1/activities/{activity.id}").json()["visibility"] == "private"
    drain()  # processed: shared, and its copy built in the same sweep
    shown = api.get(f"/api/v1/activities/{activity.id}").json()
    assert shown["visibility"] == "public" and shown["share_id"]
    drain()
    assert Client().get(f"/api/v1/shared/{shown['share_id']}/route").status_code == 200
    page = Client()
    page.force_login(user)
    assert page.post("/settings/privacy/", {"what": "default",
                                            "default_visibility": "private"}).status_code == 302
    assert api.get("/api/v1/privacy").json()["default_visibility"] == "private"


def test_a_change_flags_thousands_of_shared_copies_in_one_transaction(api, user):
    # 4,000 copies: more parameters (25 columns each) than one PostgreSQL statement may
    # carry, unbatched.
    from activities.models import Upload
    from sharing import flags

    upload = Upload.objects.create(owner=user, sha256="0" * 64, size_bytes=1, kind="file")
    Activity.objects.bulk_create(
        [Activity(owner=user, upload=upload, format="gpx", sha256=f"{n:064d}", file_name="x",
                  size_bytes=1, due_at=clock.now(), needs_work=False, status="ready",
                  visibility="public", share_id=f"s{n:023d}") for n in range(4000)],
        batch_size=1000)
    assert flags.owner_changed(user.id, now=clock.now()) == 4000
    made = api.post("/api/v1/privacy-zones", {"lat": LAT0, "lon": LON0, "radius_m": 300},
                    content_type="application/json")
    assert made.status_code == 201
    flagged = PublicCopy.objects.filter(owner=user, needs_work=True)
    assert flagged.count() == 4000 and flagged.filter(generation__lt=3).count() == 0
