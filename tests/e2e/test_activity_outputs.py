"""Route, playback, charts and preview over the API; the pages' session access; reprocess."""

import dataclasses
import xml.etree.ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from freezegun import freeze_time

from activities.models import Activity, Derived
from core import derivers
from reconciler import sweep
from reconciler.rollouts import advance as rollouts
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready(upload):
    with freeze_time(NOW):
        activity = upload(factories.gpx(points=400)).activity
        sweep.drain()
    return activity


def test_route_playback_and_charts_are_served_as_stored(api, ready):
    route = api.get(f"/api/v1/activities/{ready.id}/route")
    assert route["Content-Type"] == "application/json"
    assert route.content == bytes(Derived.objects.get(activity=ready, deriver="route").data)
    assert route.json()["polyline"]
    playback = api.get(f"/api/v1/activities/{ready.id}/playback").json()
    assert playback["axis"] == "time"
    charts = api.get(f"/api/v1/activities/{ready.id}/charts")
    assert charts.status_code == 200


def test_preview_is_an_svg_that_may_run_nothing_and_is_cached_by_etag(api, ready):
    preview = api.get(f"/api/v1/activities/{ready.id}/preview.svg")
    assert preview["Content-Type"] == "image/svg+xml"
    assert "default-src 'none'" in preview["Content-Security-Policy"]
    assert ET.fromstring(preview.content).tag.endswith("svg")
    again = api.get(f"/api/v1/activities/{ready.id}/preview.svg",
                    HTTP_IF_NONE_MATCH=preview["ETag"])
    assert again.status_code == 304


def test_etag_is_the_contents_and_survives_a_rebuild_that_changed_nothing(api, ready):
    from reconciler.derivation import resync

    first = {kind: api.get(f"/api/v1/activities/{ready.id}/{kind}")
             for kind in ("route", "playback", "charts", "preview.svg")}
    assert len({r["ETag"] for r in first.values()}) == 4
    assert all(r["ETag"].strip('"') == derivers.digest(r.content).hex()
               for r in first.values())
    later = NOW.replace(hour=18)
    resync.resync(Activity.objects.filter(id=ready.id), now=later)
    with freeze_time(later):
        sweep.drain()
    for kind, response in first.items():
        again = api.get(f"/api/v1/activities/{ready.id}/{kind}",
                        HTTP_IF_NONE_MATCH=response["ETag"])
        assert (again.status_code, again["ETag"]) == (304, response["ETag"])


def test_outputs_of_an_unprocessed_or_foreign_activity_are_404(api, upload, other_user):
    from activities import tokens

    queued = upload().activity
    response = api.get(f"/api/v1/activities/{queued.id}/route")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "NotReady"
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert mallory.get(f"/api/v1/activities/{queued.id}/playback").json()["error"][
        "code"] == "NotFound"


def test_a_browser_session_may_use_the_api_but_writes_need_the_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    browser.login(username="alice", password="correct-horse-9")
    browser.get("/upload/")  # sets the CSRF cookie, as the page does
    token = browser.cookies["csrftoken"].value
    form = {"file": SimpleUploadedFile("a.gpx", factories.gpx())}
    refused = browser.post("/api/v1/uploads", form)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "CsrfFailed"
    form = {"file": SimpleUploadedFile("a.gpx", factories.gpx())}
    accepted = browser.post("/api/v1/uploads", form, HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 202
    assert browser.get(f"/api/v1/uploads/{accepted.json()['id']}").status_code == 200


def test_owner_can_reprocess_a_failed_activity(api, upload, other_user):
    from activities import tokens

    with freeze_time(NOW):
        failed = upload(factories.gpx()[:200]).activity
        sweep.drain()
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert mallory.post(f"/api/v1/activities/{failed.id}/reprocess").status_code == 404
    with freeze_time(NOW):
        response = api.post(f"/api/v1/activities/{failed.id}/reprocess")
    assert response.status_code == 202
    failed.refresh_from_db()
    assert failed.needs_work
    assert Derived.objects.get(activity=failed, deriver="track").status == "stale"


def test_preview_bump_rebuilds_previews_alone(ready, monkeypatch):
    bumped = tuple(dataclasses.replace(d, version=d.version + 1) if d.name == "preview" else d
                   for d in derivers.ALL)
    monkeypatch.setattr(derivers, "ALL", bumped)
    monkeypatch.setattr(derivers, "BY_NAME", {d.name: d for d in bumped})
    monkeypatch.setattr(derivers, "VERSIONS", {d.name: d.version for d in bumped})
    rollouts.SEEN.reset()
    before = {r.deriver: (r.version, r.updated_at, bytes(r.data))
              for r in Derived.objects.filter(activity=ready)}
    later = NOW.replace(hour=18)
    with freeze_time(later):
        sweep.drain()
    after = {r.deriver: (r.version, r.updated_at, bytes(r.data))
             for r in Derived.objects.filter(activity=ready)}
    assert {k for k in after if after[k] != before[k]} == {"preview"}
    assert after["preview"][0] == before["preview"][0] + 1
    # The same code at a new version draws the same bytes: they are not written again.
    assert after["preview"][1:] == before["preview"][1:]
    assert Activity.objects.get(id=ready.id).status == "ready"
