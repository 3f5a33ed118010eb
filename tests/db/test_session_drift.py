"""Upload sessions in drift, on the drift page and in /metrics: each state counted, so an
operator sees sessions stuck (runbooks/uploads-stuck-uploading.md)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time
from prometheus_client.parser import text_string_to_metric_families

from reconciler.operations import drift
from tests.conftest import NOW
from transfers import drift as session_drift
from transfers import kind as session_kind
from transfers import sessions
from transfers.models import UploadSession
from work import leases

pytestmark = pytest.mark.django_db

TUS = UploadSession.Via.TUS


def open_tus(user, *, now=None) -> UploadSession:
    return sessions.open_session(owner=user, via=TUS, filename="export.zip", size=100,
                                 now=now or timezone.now())


def leased_one(user) -> UploadSession:
    """A session whose last byte is in, leased by a sweeper (the only one due)."""
    session = open_tus(user)
    sessions.nudge(session.id)
    taken = leases.claim(session_kind.KIND, limit=10, now=timezone.now(), owner="w-1",
                         trigger="sweep")
    assert [lease.row_id for lease in taken] == [session.id]
    return session


def states(api, user) -> dict[str, UploadSession]:
    """One session in each state, at NOW + 30 s (time frozen by the caller)."""
    made = {"leased": leased_one(user), "stale": leased_one(user)}
    # Its sweeper died: the lease ran out a second ago.
    UploadSession.objects.filter(id=made["stale"].id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1))
    made["waiting"] = open_tus(user)
    made["arrived"] = open_tus(user)
    sessions.nudge(made["arrived"].id)
    made["expired"] = open_tus(user, now=NOW - timedelta(
        seconds=settings.CAIRN_SESSION_TTL_S) - sessions.EXPIRY_GRACE)
    for name in ("terminated", "terminated_long_ago"):
        made[name] = open_tus(user)
        assert api.delete(f"/api/v1/tus/{made[name].id}",
                          HTTP_TUS_RESUMABLE="1.0.0").status_code == 204
    UploadSession.objects.filter(id=made["terminated_long_ago"].id).update(
        settled_at=NOW - timedelta(hours=2))
    return made


def test_no_sessions_count_zero():
    counts = drift.count(now=NOW)["sessions"]
    assert {state: counts[state] for state in session_drift.STATES} == dict.fromkeys(
        session_drift.STATES, 0)
    assert counts["oldest_arrived_age_s"] is None


def test_each_state_of_a_session_is_counted(api, user):
    with freeze_time(NOW) as clock:
        states(api, user)
        clock.tick(timedelta(seconds=30))
        counts = drift.count(now=timezone.now())["sessions"]
    assert counts == {"pending": 7, "waiting": 1, "arrived": 1, "leased": 1,
                      "stale_leases": 1, "retrying": 0, "expired": 1, "cleaning": 2,
                      "failed_last_hour": 1, "oldest_arrived_age_s": 30.0}


def test_the_sweep_moves_them_on(api, user):
    from reconciler import sweep

    with freeze_time(NOW) as clock:
        made = states(api, user)
        clock.tick(timedelta(minutes=10))  # the leases ran out
        # Each orphan is taken alone, first, a round each; then the rest, then the bytes
        # of those settled are cleaned.
        for _ in range(4):
            sweep.sweep_once()
            clock.tick(timedelta(seconds=1))
        counts = drift.count(now=timezone.now())["sessions"]
    # Nothing arrived in the store for the nudged ones: they wait for bytes again; the
    # expired one failed (and is cleaned), the terminated ones are cleaned.
    assert counts["arrived"] == counts["expired"] == counts["cleaning"] == 0
    assert counts["leased"] == counts["stale_leases"] == 0
    assert counts["waiting"] == 4
    assert counts["failed_last_hour"] == 2
    assert UploadSession.objects.get(id=made["expired"].id).error_code == "UploadExpired"


def test_the_drift_page_and_metrics_show_them(api, user, django_user_model):
    staff = Client()
    staff.force_login(django_user_model.objects.create_user("root", is_staff=True))
    with freeze_time(NOW) as clock:
        states(api, user)
        clock.tick(timedelta(seconds=30))
        page = staff.get("/staff/drift/").content.decode()
        text = Client().get("/metrics").content.decode()
    assert ("pending 7 (waiting for bytes 1, arrived 1, the oldest 30.0 s ago, leased 1, "
            "stale leases 1, retrying 0, expired 1, cleaning 2); failed in the last hour 1"
            in page)
    samples = {(s.name, tuple(s.labels.items())): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("cairn_upload_sessions", (("state", "arrived"),))] == 1
    assert samples[("cairn_upload_sessions", (("state", "cleaning"),))] == 2
    assert samples[("cairn_upload_sessions", (("state", "failed_last_hour"),))] == 1
    assert samples[("cairn_upload_session_oldest_arrived_age_seconds", ())] == 30.0
