"""The staff drift page and the per-activity debug timeline."""

import pytest
from django.test import Client
from freezegun import freeze_time

from core import derivers
from reconciler.models import Worker
from reconciler.operations import tallies
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    django_user_model.objects.create_user("root", password="admin-pass-42", is_staff=True)
    client = Client()
    client.login(username="root", password="admin-pass-42")
    return client


def test_drift_page_is_for_staff_only(user):
    browser = Client()
    browser.login(username="alice", password="correct-horse-9")
    assert browser.get("/staff/drift/").status_code == 302


def test_drift_page_shows_counts_last_hour_events_workers_and_the_last_sweep(staff, upload):
    from reconciler import sweep

    with freeze_time(NOW):
        upload()
        sweep.sweep_once()
        upload()
        for _ in range(3):
            tallies.add(tallies.NUDGE_FAILED, now=NOW)
        tallies.add(tallies.INLINE_FALLBACK, now=NOW)
        tallies.add(tallies.NUDGE_FAILED, now=NOW.replace(hour=10))  # too old to count
        Worker.objects.create(id="old-host:7", host="old-host", pid=7,
                              versions={"track": 0, "summary": 0}, started_at=NOW,
                              last_seen=NOW)
        Worker.objects.create(id="quiet-host:8", host="quiet-host", pid=8,
                              versions={"track": 1, "summary": 1}, started_at=NOW,
                              last_seen=NOW.replace(minute=0, hour=11, second=30))
        page = staff.get("/staff/drift/").content.decode()
    assert '<td id="nudge-failures">3</td>' in page
    assert '<td id="inline-fallbacks">1</td>' in page
    assert "Pending</th><td>1 " in page
    assert "running old code" in page  # old-host:7
    assert "silent" in page  # quiet-host:8
    assert "1 claimed" in page  # the last sweep


def test_owner_and_staff_see_the_timeline_others_do_not(api, user, other_user, staff, upload):
    from activities import tokens
    from reconciler import sweep

    with freeze_time(NOW):
        activity = upload().activity
        sweep.drain()
    body = api.get(f"/api/v1/activities/{activity.id}/timeline").json()
    assert body["why"] == "Ready: every output is at its current version."
    [attempt] = body["attempts"]
    assert attempt["trigger"] == "sweep"
    assert attempt["outcome"] == "converged"
    assert attempt["versions"] == derivers.VERSIONS
    assert attempt["derivers_run"] == [d.name for d in derivers.ALL]
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert mallory.get(f"/api/v1/activities/{activity.id}/timeline").status_code == 404
    assert b"every output is at its current version" in staff.get(
        f"/activities/{activity.id}/timeline/").content
    browser = Client()
    browser.login(username="mallory", password="battery-staple-7")
    assert browser.get(f"/activities/{activity.id}/timeline/").status_code == 404
