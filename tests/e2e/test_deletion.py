"""Deleting an activity: gone at once from every endpoint and page; the sweep removes its
rows under a lease (a crash mid-way resumes); its original goes once no activity of any
user refers to the content; the same bytes uploaded again are a new activity."""

import io
import json
import os
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from activities import deletion, ingest, tokens
from activities.models import Activity, ArchiveMember, Derived, Upload
from reconciler import sweep
from reconciler.deletions import kind as deletion_kind
from reconciler.deletions import removal
from reconciler.derivation import kind as activity_kind
from reconciler.operations import orphans
from tests import factories
from tests.conftest import NOW
from work import leases as work_leases
from work import run as work_run
from work.models import Attempt
from work.outcomes import Done

pytestmark = pytest.mark.django_db

LATER = NOW + timedelta(minutes=1)


def _ready(data, owner):
    with freeze_time(NOW):
        accepted = ingest.accept(data, owner=owner, original_name="ride.gpx")
        sweep.drain()
    return Activity.objects.get(id=accepted.activity.id)


def _delete(api, activity):
    with freeze_time(LATER):
        response = api.delete(f"/api/v1/activities/{activity.id}")
    assert response.status_code == 204
    assert response.content == b""


def _forget_file(name):
    """Age a stored file past the grace period and run the orphan sweep over it."""
    stamp = (timezone.now() - 2 * orphans.storage.ORPHAN_GRACE).timestamp()
    os.utime(default_storage.path(name), (stamp, stamp))
    return orphans.collect_folder(name.rsplit("/", 1)[0], now=timezone.now())


def test_a_deleted_activity_is_gone_at_once_from_every_endpoint_and_page(api, user):
    activity = _ready(factories.gpx(), user)
    upload_id = activity.upload_id
    browser = Client()
    browser.force_login(user)
    strava = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(user)}")
    assert strava.get(f"/api/v3/activities/{activity.id}").status_code == 200

    _delete(api, activity)

    for suffix in ("", "/route", "/playback", "/charts", "/preview.svg", "/original",
                   "/timeline"):
        assert api.get(f"/api/v1/activities/{activity.id}{suffix}").status_code == 404, suffix
    assert api.delete(f"/api/v1/activities/{activity.id}").status_code == 404
    assert api.post(f"/api/v1/activities/{activity.id}/reprocess").status_code == 404
    assert api.get("/api/v1/activities").json()["activities"] == []
    assert api.get(f"/api/v1/uploads/{upload_id}").status_code == 404
    assert strava.get(f"/api/v3/activities/{activity.id}").status_code == 404
    assert strava.get(f"/api/v3/uploads/{upload_id}").status_code == 404
    assert strava.get("/api/v3/athlete/activities").json() == []
    for page in (f"/activities/{activity.id}/", f"/activities/{activity.id}/timeline/",
                 f"/activities/{activity.id}/delete/", f"/uploads/{upload_id}/"):
        assert browser.get(page).status_code == 404, page
    listing = browser.get("/activities/").content.decode()
    assert f"/activities/{activity.id}/" not in listing
    assert f"/uploads/{upload_id}/" not in browser.get("/upload/").content.decode()
    # Nothing removed yet: the request only hides it.
    assert Derived.objects.filter(activity_id=activity.id).exists()


def test_an_archives_file_list_no_longer_names_a_deleted_activity(api, user):
    with freeze_time(NOW):
        response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile(
            "x.zip", factories.archive([("a.gpx", factories.gpx()),
                                        ("b.gpx", factories.gpx())]))})
        sweep.drain()
    files_url = f"/api/v1/uploads/{response.json()['id']}/files"
    first, second = api.get(files_url).json()["files"]
    _delete(api, Activity.objects.get(id=first["activity_id"]))
    shown = api.get(files_url).json()["files"]
    assert shown[0]["activity_id"] is None and shown[0]["status"] == "imported"
    assert shown[1]["activity_id"] == second["activity_id"]
    # The sweep removes the activity and clears the member's link; the archive stays.
    with freeze_time(LATER):
        sweep.drain()
    assert ArchiveMember.objects.get(activity=None).name == "a.gpx"
    assert api.get(files_url).json()["files"] == shown
    assert Activity.objects.filter(id=second["activity_id"]).exists()


def test_the_sweep_removes_derived_rows_attempts_the_activity_and_its_upload(api, user):
    activity = _ready(factories.gpx(), user)
    assert Attempt.objects.filter(kind="activity", row_id=activity.id).exists()
    _delete(api, activity)
    with freeze_time(LATER):
        assert sweep.sweep_once().claimed == 1
    assert not Activity.objects.filter(id=activity.id).exists()
    assert not Derived.objects.filter(activity_id=activity.id).exists()
    assert not Attempt.objects.filter(kind="activity", row_id=activity.id).exists()
    assert not Upload.objects.filter(id=activity.upload_id).exists()
    # The original is the orphan sweep's: removed once no row refers to it.
    assert default_storage.exists(activity.file_name)
    assert _forget_file(activity.file_name) == 1
    assert not default_storage.exists(activity.file_name)


def test_content_another_user_still_has_is_kept(api, user, other_user):
    data = factories.gpx()
    mine, theirs = _ready(data, user), _ready(data, other_user)
    assert mine.file_name == theirs.file_name  # stored once
    _delete(api, mine)
    with freeze_time(LATER):
        sweep.drain()
    assert not Activity.objects.filter(id=mine.id).exists()
    assert _forget_file(theirs.file_name) == 0
    assert default_storage.exists(theirs.file_name)
    other = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert other.get(f"/api/v1/activities/{theirs.id}/original").content == data


@pytest.mark.parametrize("swept_first", [False, True])
def test_the_same_bytes_after_a_delete_make_a_new_activity(api, user, swept_first):
    data = factories.gpx()
    with freeze_time(NOW):
        activity = ingest.accept(data, owner=user, idempotency_key="k-1").activity
        sweep.drain()
    _delete(api, activity)
    if swept_first:
        with freeze_time(LATER):
            sweep.drain()
    with freeze_time(LATER):
        response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("ride.gpx", data)},
                            HTTP_IDEMPOTENCY_KEY="k-1")
        assert response.status_code == 202
        body = response.json()
        assert body["duplicate"] is False
        assert body["activity_id"] != activity.id
        sweep.drain()
    again = Activity.objects.get(id=body["activity_id"])
    assert again.status == "ready" and again.deleted_at is None
    assert not Activity.objects.filter(id=activity.id).exists()  # the sweep finished too
    assert default_storage.exists(again.file_name)
    assert _forget_file(again.file_name) == 0
    # And a third time is a duplicate of the new one, as ever.
    with freeze_time(LATER):
        third = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("ride.gpx", data)})
    assert third.json()["duplicate"] is True
    assert third.json()["activity_id"] == again.id


def test_a_deletion_stopped_mid_way_is_finished_after_its_lease_expires(api, user):
    activity = _ready(factories.gpx(), user)
    _delete(api, activity)
    with freeze_time(LATER):
        taken = work_leases.claim(deletion_kind.KIND, limit=5, now=LATER, owner="w-dies",
                                  trigger="sweep")
        assert [t.row_id for t in taken] == [activity.id]
        # The holder removes the derived rows, then dies (no further step, no release).
        assert removal.run(taken[0], steps=("derived",)) == Done()
    assert not Derived.objects.filter(activity_id=activity.id).exists()
    row = Activity.objects.get(id=activity.id)
    assert row.lease_token == taken[0].token and row.attempts == 1  # counted at the claim

    # While the lease holds, the sweep leaves it alone.
    with freeze_time(LATER + timedelta(seconds=1)):
        sweep.drain()
    assert Activity.objects.filter(id=activity.id).exists()
    expired = LATER + timedelta(seconds=django_settings.CAIRN_LEASE_S + 1)
    with freeze_time(expired):
        sweep.drain()
    assert not Activity.objects.filter(id=activity.id).exists()
    assert not Attempt.objects.filter(kind="activity", row_id=activity.id).exists()
    assert not Upload.objects.filter(id=activity.upload_id).exists()
    # The holder that died comes back: its lease is gone, it writes nothing.
    with freeze_time(expired):
        assert work_run.run_one(deletion_kind.KIND, taken[0]) == "lease_lost"


def test_deleted_while_a_worker_processes_it_the_worker_hands_it_on(api, user):
    with freeze_time(NOW):
        activity = ingest.accept(factories.gpx(), owner=user).activity
        claim = activity_kind.claim_one(activity.id, now=NOW, owner="w-1")
    _delete(api, activity)
    row = Activity.objects.get(id=activity.id)
    assert row.lease_token == claim.token  # the worker's lease stands
    assert row.due_at == claim.expires_at
    from reconciler.derivation.reconcile import reconcile_one

    with freeze_time(LATER):
        assert reconcile_one(claim, trigger="sweep") == "yielded"
        row = Activity.objects.get(id=activity.id)
        assert row.needs_work and row.lease_token is None and row.due_at == LATER
        # The normal claim never takes a deleted activity; the deletion sweep does.
        assert activity_kind.claim(limit=5, now=LATER, owner="w-2") == []
        assert activity_kind.claim_one(activity.id, now=LATER, owner="w-2") is None
        sweep.drain()
    assert not Activity.objects.filter(id=activity.id).exists()


def test_the_delete_button_asks_first_and_needs_the_csrf_token(user):
    activity = _ready(factories.gpx(), user)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    page = browser.get(f"/activities/{activity.id}/").content.decode()
    assert f'href="/activities/{activity.id}/delete/"' in page
    confirm = browser.get(f"/activities/{activity.id}/delete/")
    assert confirm.status_code == 200
    assert b'id="confirm-delete"' in confirm.content
    # The confirmation itself needs no script (the page's shared ones come after it).
    assert b"<script" not in confirm.content.split(b"</header>")[-1].split(b"</main>")[0]
    # A forged POST (no CSRF token) deletes nothing.
    assert browser.post(f"/activities/{activity.id}/delete/").status_code == 403
    assert Activity.objects.get(id=activity.id).deleted_at is None
    token = browser.cookies["csrftoken"].value
    with freeze_time(LATER):
        response = browser.post(f"/activities/{activity.id}/delete/",
                                {"csrfmiddlewaretoken": token})
    assert response.status_code == 302 and response["Location"] == "/activities/"
    assert Activity.objects.get(id=activity.id).deleted_at == LATER


def test_another_users_delete_page_is_404(user, other_user):
    activity = _ready(factories.gpx(), user)
    browser = Client()
    browser.force_login(other_user)
    assert browser.get(f"/activities/{activity.id}/delete/").status_code == 404
    assert browser.post(f"/activities/{activity.id}/delete/").status_code == 404
    assert Activity.objects.get(id=activity.id).deleted_at is None


def test_the_admin_action_deletes_the_reconciled_way(user, django_user_model):
    activity = _ready(factories.gpx(), user)
    staff = django_user_model.objects.create_superuser("root", password="x-Y-z-123456")
    admin = Client()
    admin.force_login(staff)
    with freeze_time(LATER):
        response = admin.post("/admin/activities/activity/", {
            "action": "delete_for_owner", "_selected_action": [activity.id]})
    assert response.status_code == 302
    assert Activity.objects.get(id=activity.id).deleted_at == LATER
    # No bare delete beside it: the rows go through the sweep only.
    assert admin.get(f"/admin/activities/activity/{activity.id}/delete/").status_code == 403
    with freeze_time(LATER):
        sweep.drain()
    assert not Activity.objects.filter(id=activity.id).exists()


def test_deleting_a_failed_or_dead_activity_works_too(api, user):
    activity = _ready(factories.gpx()[:200], user)
    Activity.objects.filter(id=activity.id).update(status="dead", attempts=5,
                                                   needs_work=False)
    _delete(api, activity)
    row = Activity.objects.get(id=activity.id)
    assert row.needs_work and row.attempts == 0 and row.due_at == LATER
    with freeze_time(LATER):
        sweep.drain()
    assert not Activity.objects.filter(id=activity.id).exists()


def test_import_of_a_deleted_activitys_file_is_new(user):
    data = factories.gpx()
    activity = _ready(data, user)
    with freeze_time(LATER):
        deletion.request(Activity.objects.filter(id=activity.id), now=LATER)
        accepted = ingest.accept_file(io.BytesIO(data), owner=user, original_name="r.gpx")
    assert accepted.created and accepted.activity.id != activity.id
    assert json.loads(json.dumps(accepted.activity.id))  # a plain id


def test_a_failing_deletion_step_is_retried_with_backoff_and_never_given_up(
        api, user, monkeypatch, settings):
    activity = _ready(factories.gpx(), user)
    other = _ready(factories.gpx(), user)
    _delete(api, activity)
    Activity.objects.filter(id=activity.id).update(attempts=settings.CAIRN_MAX_ATTEMPTS + 3)

    def database_trouble(activity_id):
        raise RuntimeError("disk full")

    monkeypatch.setattr(removal, "STEPS", (("derived", database_trouble),
                                            *removal.STEPS[1:]))
    with freeze_time(LATER):
        sweep.drain()  # the failure stays with its row: the sweep goes on
    row = Activity.objects.get(id=activity.id)
    assert row.lease_token is None and row.needs_work
    assert row.attempts == settings.CAIRN_MAX_ATTEMPTS + 4  # counted at the claim
    assert row.due_at > LATER  # backoff
    assert row.status != "dead"
    assert Activity.objects.get(id=other.id).deleted_at is None
    monkeypatch.undo()
    with freeze_time(LATER + timedelta(seconds=settings.CAIRN_BACKOFF_CAP_S + 1)):
        sweep.drain()
    assert not Activity.objects.filter(id=activity.id).exists()


def test_an_orphaned_deletion_past_max_attempts_is_not_buried(api, user, settings):
    activity = _ready(factories.gpx(), user)
    _delete(api, activity)
    with freeze_time(LATER):
        work_leases.claim(deletion_kind.KIND, limit=1, now=LATER, owner="w-dies",
                          trigger="sweep")
    Activity.objects.filter(id=activity.id).update(attempts=settings.CAIRN_MAX_ATTEMPTS)
    expired = LATER + timedelta(seconds=settings.CAIRN_LEASE_S + 1)
    with freeze_time(expired):
        assert activity_kind.claim(limit=5, now=expired, owner="w-2") == []  # bury runs first
        assert Activity.objects.get(id=activity.id).status != "dead"
        sweep.drain()
    assert not Activity.objects.filter(id=activity.id).exists()


def test_a_finished_deletion_is_converged_and_leaves_no_attempts_behind(api, user):
    activity = _ready(factories.gpx(), user)
    _delete(api, activity)
    with freeze_time(LATER):
        taken = work_leases.claim(deletion_kind.KIND, limit=5, now=LATER, owner="w-1",
                                  trigger="sweep")
        assert [t.row_id for t in taken] == [activity.id]
        assert Attempt.objects.filter(kind="deletion", row_id=activity.id).exists()
        # The row is gone with the last step: its release is no lost lease.
        assert work_run.run_one(deletion_kind.KIND, taken[0]) == "converged"
    assert not Activity.objects.filter(id=activity.id).exists()
    assert not Attempt.objects.filter(row_id=activity.id,
                                          kind__in=["deletion", "activity"]).exists()
