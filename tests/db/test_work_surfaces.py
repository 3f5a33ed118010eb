"""Every registered kind of work is seen by an operator with the same fields: drift --json's
"work", /metrics' cairn_work_rows, a table on the drift page with its runbook, the admin's
state filter and replay action, and the `replay` command. Checked with the upload-session
kind and a test-only kind over the activities' table, registered here and nowhere else:
registering it is all it takes to appear everywhere."""

import io
import json
from datetime import timedelta

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.db.models import Q
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families

from activities.models import Activity
from tests.conftest import NOW
from transfers import kind as session_kind
from transfers import sessions
from transfers.models import UploadSession
from work import admin as work_admin
from work import drift as work_drift
from work import kinds, leases
from work.outcomes import Dead

pytestmark = pytest.mark.django_db

FIELDS = {*work_drift.STATES, "oldest_due_age_s"}


def _error(code, message):
    return {"error_code": code, "error_message": message}


#: A kind no app registers: live activities, dead and failed by their status.
PROBE = kinds.Kind(
    name="probe", label="probe rows", model=Activity,
    statements=kinds.Statements(due="SELECT 1"), doing="probing",
    max_attempts=lambda: 3, backoff=lambda: (1.0, 10.0), error_fields=_error,
    rows=lambda: Q(deleted_at__isnull=True),
    dead=lambda: Q(status=Activity.Status.DEAD, deleted_at__isnull=True),
    failed=lambda: Q(status=Activity.Status.FAILED),
    revived=lambda now: {"status": Activity.Status.QUEUED},
    runbook="poison-files-and-dead-letters.md")


@pytest.fixture
def probe():
    """PROBE registered, and equipped in the admin, for one test only."""
    kinds.register(PROBE)
    work_admin.equip(admin.site)
    yield PROBE
    kinds.ALL.pop(PROBE.name)
    # Only the probe's filter and action go: the others may have been added meanwhile (the
    # URLconf equips the admin when a test's first request loads it).
    model_admin = admin.site.get_model_admin(Activity)
    model_admin.list_filter = tuple(f for f in model_admin.list_filter
                                    if getattr(f, "parameter_name", "") != "work_probe")
    model_admin.actions = tuple(a for a in model_admin.actions
                                if getattr(a, "__name__", a) != "replay_probe")


@pytest.fixture
def staff(django_user_model):
    django_user_model.objects.create_superuser("root", password="admin-pass-42")
    client = Client()
    client.login(username="root", password="admin-pass-42")
    return client


def activity(upload, **fields) -> Activity:
    made = upload().activity
    Activity.objects.filter(id=made.id).update(**fields)
    return made


def one_of_each(upload) -> dict[str, Activity]:
    """A probe row in each state at NOW (and two rows that are none of the kind's)."""
    soon, ago = NOW + timedelta(minutes=5), NOW - timedelta(minutes=1)
    pending = {"needs_work": True, "lease_token": None}
    leased = {"needs_work": True, "lease_token": "t" * 32, "lease_owner": "w-1"}
    return {
        "due": activity(upload, **pending, due_at=NOW - timedelta(seconds=40), attempts=0),
        "due_again": activity(upload, **pending, due_at=NOW - timedelta(seconds=10),
                              attempts=2),
        "leased": activity(upload, **leased, lease_expires_at=soon, due_at=soon),
        "stale": activity(upload, **leased, lease_expires_at=ago, due_at=ago),
        "retrying": activity(upload, **pending, due_at=soon, attempts=2),
        "waiting": activity(upload, **pending, due_at=soon, attempts=0),
        "dead": activity(upload, needs_work=False, status=Activity.Status.DEAD, attempts=3),
        "failed": activity(upload, needs_work=False, status=Activity.Status.FAILED),
        "ready": activity(upload, needs_work=False, status=Activity.Status.READY),
        # Being deleted: the deletions' rows, not this kind's.
        "deleted": activity(upload, **pending, due_at=ago, deleted_at=ago),
    }


def test_each_state_of_a_kind_is_counted(probe, upload):
    one_of_each(upload)
    assert work_drift.count(probe, now=NOW) == {
        "due": 2, "leased": 1, "stale_leases": 1, "retrying": 1, "waiting": 1, "dead": 1,
        "failed": 1, "oldest_due_age_s": 40.0}


def test_drift_json_lists_every_registered_kind_with_the_same_fields(probe, upload, user):
    one_of_each(upload)
    sessions.open_session(owner=user, via=UploadSession.Via.TUS, filename="a.fit", size=9,
                          now=timezone.now())
    out = io.StringIO()
    call_command("drift", "--json", stdout=out)
    counts = json.loads(out.getvalue())
    assert set(counts["work"]) == set(kinds.ALL)  # every registered kind, the probe too
    assert all(set(found) == FIELDS for found in counts["work"].values())
    assert counts["work"]["session"]["waiting"] == 1
    # What scripts and tests read is still there.
    assert {"total", "pending", "dead", "sessions", "records", "webhooks"} <= set(counts)
    text = io.StringIO()
    call_command("drift", stdout=text)
    assert "probe: due " in text.getvalue()


def test_no_work_counts_zero_and_none_due():
    found = work_drift.count(session_kind.KIND, now=NOW)
    assert found == dict.fromkeys(work_drift.STATES, 0) | {"oldest_due_age_s": None}


def test_metrics_have_every_kind_by_state(probe, upload):
    one_of_each(upload)
    with freeze_time(NOW):
        text = Client().get("/metrics").content.decode()
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    for kind in ("probe", "session"):
        for state in work_drift.STATES:
            assert ("cairn_work_rows", (("kind", kind), ("state", state))) in samples
        assert ("cairn_work_oldest_due_age_seconds", (("kind", kind),)) in samples
    assert samples[("cairn_work_rows", (("kind", "probe"), ("state", "dead")))] == 1
    assert samples[("cairn_work_rows", (("kind", "probe"), ("state", "stale_leases")))] == 1
    assert samples[("cairn_work_oldest_due_age_seconds", (("kind", "session"),))] == 0
    # The series that were there stay.
    assert ("cairn_activities", (("state", "dead"),)) in samples


def test_drift_page_has_a_table_per_kind_with_its_runbook(probe, upload, staff):
    one_of_each(upload)
    page = staff.get("/staff/drift/")
    html = page.content.decode()
    assert 'id="work-probe"' in html and 'id="work-session"' in html
    assert "/staff/runbooks/poison-files-and-dead-letters.md" in html
    assert "/staff/runbooks/uploads-stuck-uploading.md" in html
    runbook = staff.get("/staff/runbooks/uploads-stuck-uploading.md")
    assert runbook.status_code == 200
    assert b"# " in runbook.content


def test_runbooks_are_for_staff_and_only_the_runbooks(user, staff):
    assert staff.get("/staff/runbooks/nothing-here.md").status_code == 404
    assert staff.get("/staff/runbooks/..%2FREADME.md").status_code == 404
    assert staff.get("/staff/runbooks/README").status_code == 404
    browser = Client()
    browser.login(username="alice", password="correct-horse-9")
    response = browser.get("/staff/runbooks/uploads-stuck-uploading.md")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_filters_each_kind_by_state(probe, upload, staff):
    made = one_of_each(upload)
    with freeze_time(NOW):
        for state, expected in (("due", {"due", "due_again"}), ("leased", {"leased"}),
                                ("orphaned", {"stale"}), ("dead", {"dead"})):
            listing = staff.get(f"/admin/activities/activity/?work_probe={state}")
            shown = {row.id for row in listing.context["cl"].result_list}
            assert shown == {made[name].id for name in expected}, state


def dead_session(user) -> UploadSession:
    """A session given up on by the kernel (released with Dead)."""
    session = sessions.open_session(owner=user, via=UploadSession.Via.TUS, filename="a.fit",
                                    size=9, now=timezone.now())
    sessions.nudge(session.id)
    lease = leases.claim(session_kind.KIND, limit=1, now=timezone.now(), owner="w-1",
                         trigger="sweep")[0]
    assert leases.release(session_kind.KIND, lease, Dead("StoreAway", "Gone."),
                          now=timezone.now()) == "dead"
    session.refresh_from_db()
    assert (session.status, session.needs_work, session.attempts) == ("failed", False, 1)
    return session


def test_admin_replays_the_selected_dead_sessions(user, staff):
    dead = dead_session(user)
    waiting = sessions.open_session(owner=user, via=UploadSession.Via.TUS, filename="b.fit",
                                    size=9, now=timezone.now())
    listing = staff.get("/admin/transfers/uploadsession/?work_session=dead")
    assert [row.id for row in listing.context["cl"].result_list] == [dead.id]
    response = staff.post("/admin/transfers/uploadsession/", {
        "action": "replay_session", "_selected_action": [dead.id, waiting.id]}, follow=True)
    assert b"1 dead upload sessions replayed" in response.content
    dead.refresh_from_db()
    assert (dead.status, dead.needs_work, dead.attempts, dead.error_code) == (
        "uploading", True, 0, "")
    # Due again: the next claim takes it.
    taken = leases.claim(session_kind.KIND, limit=10, now=timezone.now(), owner="w-2",
                         trigger="sweep")
    assert dead.id in {lease.row_id for lease in taken}


def test_replay_command_revives_dead_rows_of_any_kind(probe, upload, user):
    made = one_of_each(upload)
    other = activity(upload, needs_work=False, status=Activity.Status.DEAD, attempts=3)
    out = io.StringIO()
    call_command("replay", "--kind", "probe", "--ids", str(made["dead"].id),
                 str(made["failed"].id), stdout=out)
    assert json.loads(out.getvalue()) == {"kind": "probe", "replayed": 1}
    revived = Activity.objects.get(id=made["dead"].id)
    assert (revived.status, revived.needs_work, revived.attempts, revived.priority) == (
        "queued", True, 0, Activity.Priority.FRESH)
    assert revived.generation == made["dead"].generation + 1
    assert Activity.objects.get(id=made["failed"].id).status == "failed"  # not dead
    assert Activity.objects.get(id=other.id).status == "dead"  # not selected
    session = dead_session(user)
    out = io.StringIO()
    call_command("replay", "--kind", "session", "--all-dead", stdout=out)
    assert json.loads(out.getvalue()) == {"kind": "session", "replayed": 1}
    session.refresh_from_db()
    assert (session.status, session.needs_work, session.priority) == (
        "uploading", True, UploadSession.Priority.BACKFILL)


def test_replay_command_refuses_what_it_cannot_do():
    with pytest.raises(CommandError, match="No kind 'nothing'; known: .*session"):
        call_command("replay", "--kind", "nothing", "--all-dead")
    with pytest.raises(CommandError, match="Say what to replay"):
        call_command("replay", "--kind", "session")
