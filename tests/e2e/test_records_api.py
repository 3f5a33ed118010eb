"""The records, totals, heatmap and timeline endpoints and pages: owner only, JSON shapes,
a sentence for a bad period; operators' drift, metrics, admin and resync cover books."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.test import Client
from freezegun import freeze_time

from activities import ingest, tokens
from activities.models import Activity
from reconciler.operations import drift
from reconciler.sweep import sweep_once
from records.models import Book
from tests.conftest import NOW
from tests.db.test_records import run_gpx
from tests.unit.test_records import read_png
from work import attempts

pytestmark = pytest.mark.django_db


@pytest.fixture
def ran(user):
    with freeze_time(NOW):
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="run.gpx")
        ingest.accept(run_gpx(speed_mps=8.0, sport="cycling", points=1600,
                              start=datetime(2026, 1, 13, 7, tzinfo=UTC)),
                      owner=user, original_name="ride.gpx")
        for _ in range(5):
            sweep_once()
    return list(Activity.objects.filter(owner=user).order_by("id").values_list("id", flat=True))


def test_records_api_shape(api, ran):
    body = api.get("/api/v1/records").json()
    assert body["status"] == "ready"
    kinds = {(r["sport"], r["kind"]) for r in body["records"]}
    assert {("running", "1k"), ("running", "400m"), ("cycling", "10k"),
            ("cycling", "longest_distance"), ("running", "most_ascent")} <= kinds
    one_k = next(r for r in body["records"] if r["kind"] == "1k")
    assert set(one_k) == {"sport", "kind", "value", "unit", "activity_id", "achieved_at",
                          "start_offset_s", "end_offset_s"}
    assert one_k["activity_id"] == ran[0] and one_k["achieved_at"] == "2026-01-12T07:00:00Z"


def test_totals_api_by_period(api, ran):
    weeks = api.get("/api/v1/totals?period=week").json()["totals"]
    assert {(t["period_start"], t["sport"], t["count"]) for t in weeks} == {
        ("2026-01-12", "running", 1), ("2026-01-12", "cycling", 1)}
    years = api.get("/api/v1/totals", {"period": "year"}).json()["totals"]
    assert {t["period_start"] for t in years} == {"2026-01-01"}
    refused = api.get("/api/v1/totals?period=fortnight")
    assert refused.status_code == 400
    assert "week, month or year" in refused.json()["error"]["message"]


def test_heatmap_is_a_png_of_the_tracks(api, ran):
    response = api.get("/api/v1/heatmap.png")
    assert response["Content-Type"] == "image/png"
    image = read_png(response.content)
    assert (image[..., 3] > 0).sum() > 100


def test_owner_only(ran, other_user):
    other = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert other.get("/api/v1/records").json()["records"] == []
    assert other.get("/api/v1/totals").json()["totals"] == []
    assert read_png(other.get("/api/v1/heatmap.png").content).shape == (1, 1, 4)
    assert Client().get("/api/v1/records").status_code == 401


def test_pages_and_new_record_on_the_activity_page(client, user, ran):
    client.force_login(user)
    records = client.get("/records/")
    assert records.status_code == 200 and b"1 km" in records.content
    totals = client.get("/totals/?period=month")
    assert totals.status_code == 200 and b"<svg" in totals.content
    assert client.get("/totals/?period=nonsense").status_code == 200  # weeks instead
    page = client.get(f"/activities/{ran[0]}/")
    assert b"New record!" in page.content
    assert client.get("/records/timeline/").status_code == 200
    assert client.get("/records/heatmap.png").status_code == 404  # the API serves it


def test_timeline_api(api, ran):
    body = api.get("/api/v1/records/timeline").json()
    assert body["status"] == "ready" and body["why"].startswith("Ready")
    assert [a["outcome"] for a in body["attempts"]][-1] == "converged"
    # Read from the one attempt log: what the build did is in each attempt's detail.
    assert body["attempts"][-1]["mode"] in ("whole", "merged")
    assert body["attempts"][-1]["activities_read"] >= 1


def test_drift_and_metrics_count_books(client, ran):
    counts = drift.count(now=NOW)
    assert counts["records"]["total"] == 1 and counts["records"]["pending"] == 0
    metrics = client.get("/metrics").content.decode()
    assert 'cairn_record_books{state="total"} 1.0' in metrics


def test_resync_deriver_records(user, ran, capsys):
    with freeze_time(NOW):
        call_command("resync", "--deriver", "records", "--owner", user.username)
        assert json.loads(capsys.readouterr().out) == {"resynced": 1, "deriver": "records"}
        book = Book.objects.get(user=user)
        assert book.needs_work and book.whole
        sweep_once()
    book = Book.objects.get(user=user)
    assert not book.needs_work and not book.whole
    assert attempts.of("book", book.id).last().detail["mode"] == "whole"


def test_resync_revives_a_dead_book(user, ran):
    Book.objects.filter(user=user).update(status=Book.Status.DEAD, needs_work=False)
    with freeze_time(NOW):
        call_command("resync", "--deriver", "records", "--dead")
        sweep_once()
    assert Book.objects.get(user=user).status == Book.Status.READY


def test_admin_rebuild_action(admin_client, user, ran):
    book = Book.objects.get(user=user)
    response = admin_client.post("/admin/records/book/", {
        "action": "rebuild", "_selected_action": [book.id]}, follow=True)
    assert b"Flagged 1 record book" in response.content
    assert Book.objects.get(user=user).whole
    page = admin_client.get(f"/admin/records/book/{book.id}/change/")
    assert page.status_code == 200
    # Its timeline, from the one attempt log.
    assert b"<th>Activities read</th>" in page.content and b"converged" in page.content
