"""The admin: staff only; dead activities listed with their error and replayed by an
action that calls the same code as `resync`."""

import pytest
from django.test import Client
from freezegun import freeze_time

from activities.models import Activity
from reconciler import sweep
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    django_user_model.objects.create_superuser("root", password="admin-pass-42")
    client = Client()
    client.login(username="root", password="admin-pass-42")
    return client


def test_admin_is_for_staff_only(user):
    assert Client().get("/admin/").status_code == 302
    browser = Client()
    browser.login(username="alice", password="correct-horse-9")
    response = browser.get("/admin/activities/activity/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_dead_activity_is_listed_with_its_error_and_replayed_by_the_action(staff, upload):
    with freeze_time(NOW):
        dead = upload().activity
        alive = upload().activity
        sweep.drain()
    Activity.objects.filter(id=dead.id).update(
        status=Activity.Status.DEAD, error_code="StorageDown",
        error_message="The disk went away.", attempts=5)
    listing = staff.get("/admin/activities/activity/?state=dead")
    assert b"StorageDown" in listing.content
    with freeze_time(NOW):
        response = staff.post("/admin/activities/activity/", {
            "action": "replay_dead", "_selected_action": [dead.id, alive.id]}, follow=True)
    assert b"Replayed 1 dead activity." in response.content
    dead.refresh_from_db()
    assert dead.status == Activity.Status.QUEUED
    assert dead.needs_work
    assert dead.attempts == 0
    with freeze_time(NOW.replace(hour=13)):
        sweep.drain()
    dead.refresh_from_db()
    assert dead.status == Activity.Status.READY


def test_force_resync_action_flags_the_selected_activities(staff, upload):
    with freeze_time(NOW):
        ids = [upload().activity.id for _ in range(3)]
        sweep.drain()
    response = staff.post("/admin/activities/activity/", {
        "action": "force_resync", "_selected_action": ids[:2]}, follow=True)
    assert b"Re-sync requested for 2 activities." in response.content
    assert set(Activity.objects.filter(needs_work=True).values_list("id", flat=True)) == set(
        ids[:2])


def test_old_version_filter_lists_activities_behind_on_one_deriver(staff, upload):
    from activities.models import Derived

    with freeze_time(NOW):
        behind, current = upload().activity, upload().activity
        sweep.drain()
    Derived.objects.filter(activity=behind, deriver="summary").update(version=0)
    listing = staff.get("/admin/activities/activity/?old_version=summary")
    assert listing.context["cl"].result_count == 1
    assert list(listing.context["cl"].result_list) == [behind]
    assert staff.get("/admin/activities/activity/?old_version=track").context[
        "cl"].result_count == 0
    assert current.id != behind.id


def test_resync_one_deriver_action_rebuilds_only_it(staff, upload):
    from activities.models import Derived
    from work.models import Attempt

    with freeze_time(NOW):
        activity = upload().activity
        sweep.drain()
        response = staff.post("/admin/activities/activity/", {
            "action": "resync_summary", "_selected_action": [activity.id]}, follow=True)
    assert b"Re-sync of summary requested for 1 activity." in response.content
    later = NOW.replace(hour=15)
    with freeze_time(later):
        sweep.drain()
    last = Attempt.objects.filter(kind="activity", row_id=activity.id).order_by("-id").first()
    assert last.detail["derivers"] == ["summary"]
    assert Derived.objects.get(activity=activity, deriver="summary").status == "ready"


def test_search_by_owner_id_and_file_hash(staff, upload):
    with freeze_time(NOW):
        activity = upload().activity
    for term in (activity.sha256, "alice", str(activity.id)):
        listing = staff.get("/admin/activities/activity/", {"q": term})
        assert list(listing.context["cl"].result_list) == [activity], term
