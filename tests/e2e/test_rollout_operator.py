"""The operator's side of a rollout: the `rollout` command, the staff pages, the admin and
the timeline of an affected activity."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from freezegun import freeze_time

from activities import names
from activities.models import Activity, Derived
from core.derivers.summary import SUMMARY
from reconciler import sweep
from reconciler.models import Rollout, RolloutAction
from tests import factories
from tests.bumps import bump, longer_summary
from tests.conftest import NOW
from tests.e2e import test_operator_pages

pytestmark = pytest.mark.django_db
LATER = NOW + timedelta(hours=1)
#: The summary's version after the test's deploy (`bump`).
NEW = SUMMARY.version + 1
staff = test_operator_pages.staff  # the signed-in staff client


@pytest.fixture
def previewing(upload, monkeypatch):
    """Three ready activities, then a deploy of a new summary, previewed."""
    with freeze_time(NOW):
        ids = [upload(factories.gpx(points=n)).activity.id for n in (40, 80, 120)]
        sweep.drain()
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER):
        sweep.drain()
    return ids


def _run(*args):
    from io import StringIO

    out = StringIO()
    with freeze_time(LATER):
        call_command("rollout", *args, stdout=out)
    return out.getvalue()


def test_show_json_reports_the_preview(previewing):
    report = json.loads(_run("show", "--json"))
    assert report["rollout"]["state"] == "preview"
    assert report["sample"]["computed"] == 3
    assert report["summary"]["distance_m"]["compared"] == 3
    assert report["most_changed"][0]["activity_id"] == previewing[-1]  # 6 % longer


def test_show_for_a_person_has_the_headline(previewing):
    text = _run("show")
    assert text.startswith(f"summary v{NEW}: preview (throttle none)")
    assert "sample: 3 of 3 computed, strata cycling/gpx 3" in text
    assert "distance_m" in text and "failures under the new code: 0" in text


def test_actions_are_recorded_with_who(previewing):
    assert "promote by ann, now running" in _run("promote", "--by", "ann")
    assert "throttle 5 per minute, set by bob" in _run("throttle", "5", "--by", "bob")
    assert "pause by bob, now paused" in _run("pause", "--by", "bob")
    with pytest.raises(CommandError, match="Cannot finish a rollout that is paused"):
        _run("finish", "--by", "bob")
    assert list(RolloutAction.objects.order_by("id").values_list("action", "by")) == [
        ("start", "deploy"), ("promote", "ann"), ("throttle", "bob"), ("pause", "bob")]


def test_throttle_needs_a_number(previewing):
    with pytest.raises(CommandError, match="Say how many"):
        _run("throttle")


def test_no_rollout_is_a_sentence(db):
    with pytest.raises(CommandError, match="No rollout in progress"):
        _run("show")


def test_staff_page_shows_the_report_and_links_the_most_changed(previewing, staff):
    rollout = Rollout.objects.get(deriver="summary", version=NEW)
    with freeze_time(LATER):
        page = staff.get("/staff/rollouts/").content.decode()
    assert f"summary v{NEW}" in page and "preview" in page
    assert f'href="/staff/rollouts/{rollout.id}/activities/{previewing[-1]}/"' in page
    with freeze_time(LATER):
        side = staff.get(f"/staff/rollouts/{rollout.id}/activities/{previewing[-1]}/")
    assert side.status_code == 200
    text = side.content.decode()
    old = json.loads(bytes(Derived.objects.get(activity_id=previewing[-1],
                                               deriver="summary").data))
    assert f"<td>{old['distance_m']}</td>" in text
    assert f"<td>{round(old['distance_m'] * 1.06, 1)}</td>" in text


def test_staff_actions_record_the_user(previewing, staff):
    rollout = Rollout.objects.get(deriver="summary", version=NEW)
    with freeze_time(LATER):
        staff.post(f"/staff/rollouts/{rollout.id}/promote/")
        answer = staff.post(f"/staff/rollouts/{rollout.id}/throttle/", {"per_min": "x"},
                            follow=True)
    assert "whole number" in answer.content.decode()
    rollout.refresh_from_db()
    assert rollout.state == "running"
    assert RolloutAction.objects.filter(action="promote", by="root").exists()


def test_rollout_pages_are_for_staff_only(previewing, user):
    browser = Client()
    browser.login(username="alice", password="correct-horse-9")
    assert browser.get("/staff/rollouts/").status_code == 302
    assert browser.post("/staff/rollouts/1/promote/").status_code == 302
    assert Rollout.objects.get(deriver="summary", version=NEW).state == "preview"


def test_an_activity_outside_the_sample_is_a_404(previewing, staff):
    rollout = Rollout.objects.get(deriver="summary", version=NEW)
    assert staff.get(f"/staff/rollouts/{rollout.id}/activities/999/").status_code == 404


def test_timeline_of_an_affected_activity_shows_the_actions(previewing, api):
    _run("promote", "--by", "ann")
    with freeze_time(LATER):
        timeline = api.get(f"/api/v1/activities/{previewing[0]}/timeline").json()
    assert [(r["action"], r["by"], r["to"]) for r in timeline["rollouts"]
            if r["deriver"] == "summary" and r["version"] == NEW] == [
        ("start", "deploy", "preview"), ("promote", "ann", "running")]


def test_admin_lists_rollouts_and_their_actions(previewing, staff, django_user_model):
    django_user_model.objects.filter(username="root").update(is_superuser=True)
    rollout = Rollout.objects.get(deriver="summary", version=NEW)
    page = staff.get(f"/admin/reconciler/rollout/{rollout.id}/change/").content.decode()
    assert "deploy" in page and "preview" in page


def test_timeline_page_lists_the_actions(previewing, user):
    _run("promote", "--by", "ann")
    browser = Client()
    browser.login(username="alice", password="correct-horse-9")
    with freeze_time(LATER):
        page = browser.get(f"/activities/{previewing[0]}/timeline/").content.decode()
    name = names.name_of(Activity.objects.get(id=previewing[0]))
    assert f"<title>Timeline of {name} · Cairn</title>" in page
    assert "<h2>Version rollouts</h2>" in page and "<td>ann</td>" in page
