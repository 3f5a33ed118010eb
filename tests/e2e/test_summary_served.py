"""The summary rules as a user meets them: in the activity JSON, on the page, in the charts."""

from datetime import timedelta

import pytest
from django.test import Client

from reconciler import sweep
from tests import factories
from tests.unit.test_summary_rules import extreme_gpx

pytestmark = pytest.mark.django_db


def _two_tracks_a_month_apart() -> bytes:
    """Two hikes in one GPX: 10 minutes, then 5 minutes 30 days later."""
    first = factories.gpx(points=121, step_s=5)
    later = factories.gpx(points=61, step_s=5, start=factories.START + timedelta(days=30))
    head, _, rest = first.partition(b"<trk>")
    second_trk = b"<trk>" + later.partition(b"<trk>")[2].rpartition(b"</gpx>")[0]
    return head + b"<trk>" + rest.rpartition(b"</gpx>")[0] + second_trk + b"</gpx>"


def test_parts_recorded_apart_add_up_in_the_json_and_the_page(api, upload, user):
    activity = upload(_two_tracks_a_month_apart()).activity
    sweep.drain()
    body = api.get(f"/api/v1/activities/{activity.id}").json()
    assert (body["elapsed_s"], body["parts"]) == (600.0 + 300.0, 2)
    assert body["moving_s"] <= body["elapsed_s"]
    browser = Client()
    browser.force_login(user)
    page = browser.get(f"/activities/{activity.id}/").content.decode()
    assert "2 parts" in page


def test_a_file_without_timestamps_has_no_times_and_no_time_axis(api, upload):
    activity = upload(factories.gpx(points=100, times=False)).activity
    sweep.drain()
    body = api.get(f"/api/v1/activities/{activity.id}").json()
    assert body["status"] == "ready" and body["distance_m"] > 0
    untimed = ("start_time", "elapsed_s", "moving_s", "avg_speed_mps", "max_speed_mps",
               "parts")
    assert {k: body[k] for k in untimed} == dict.fromkeys(untimed)
    charts = api.get(f"/api/v1/activities/{activity.id}/charts").json()
    assert charts["by_time"] is None
    assert "speed_mps" not in charts["by_distance"]
    assert api.get(f"/api/v1/activities/{activity.id}/playback").json()["axis"] == "distance"


def test_extreme_values_are_left_out_of_what_the_api_serves(api, upload):
    # Issue 12: ±1e308 m elevations, a 1e308 heart rate, years 0001 and 9999.
    activity = upload(extreme_gpx()).activity
    sweep.drain()
    body = api.get(f"/api/v1/activities/{activity.id}").json()
    assert body["status"] == "ready"
    assert (body["elapsed_s"], body["start_time"]) == (59.0, "2024-05-01T06:00:00Z")
    assert body["ascent_m"] < 100 and body["descent_m"] < 100
    assert body["max_hr_bpm"] == 130
    for output in ("charts", "playback"):
        assert api.get(f"/api/v1/activities/{activity.id}/{output}").status_code == 200
