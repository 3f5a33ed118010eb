"""reconcile_one: converge, do nothing when converged, classify failures."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from activities.models import Activity, Derived
from core import derivers
from core.derivers import DeriveError
from reconciler import drift, leases, resync, sweep, tasks
from reconciler.models import Attempt
from reconciler.reconcile import reconcile_one
from tests import factories
from tests.conftest import NOW

pytestmark = [pytest.mark.django_db, pytest.mark.storage]


def _claim(activity_id):
    return leases.claim_one(activity_id, now=NOW, owner="w-1")


def test_new_activity_converges_with_track_and_summary(upload):
    with freeze_time(NOW):
        activity = upload(factories.gpx(points=120, step_s=5)).activity
        outcome = reconcile_one(_claim(activity.id), trigger=Attempt.Trigger.SWEEP)
    assert outcome == Attempt.Outcome.CONVERGED
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    assert not activity.needs_work
    assert activity.lease_token is None
    rows = {r.deriver: r for r in activity.derived.all()}
    assert {n: r.version for n, r in rows.items()} == derivers.VERSIONS
    summary = json.loads(bytes(rows["summary"].data))
    assert summary["point_count"] == 120
    # 119 steps of 25 m east
    assert summary["distance_m"] == pytest.approx(119 * 25, rel=0.01)
    assert summary["elapsed_s"] == pytest.approx(119 * 5)


def _snapshot():
    return (list(Activity.objects.order_by("id").values()),
            list(Derived.objects.order_by("id").values()),
            list(Attempt.objects.order_by("id").values()))


def test_second_reconcile_of_a_ready_activity_performs_no_writes(upload):
    with freeze_time(NOW):
        activity = upload().activity
        tasks.nudge(activity.id)
        sweep.drain()  # also settles the version rollouts' bookkeeping
        before = _snapshot()
        with CaptureQueriesContext(connection) as queries:
            assert tasks.nudge(activity.id) == "nothing to do"
        # The sweep's claim is one conditional UPDATE; it must match nothing.
        assert sweep.sweep_once(owner="w-2").claimed == 0
    assert {q["sql"].split()[0].upper() for q in queries.captured_queries} == {"SELECT"}
    assert _snapshot() == before
    assert Attempt.objects.filter(activity=activity).count() == 1


def test_nudge_path_and_sweep_path_produce_identical_derived_rows(upload, user):
    data = factories.gpx(points=200)
    with freeze_time(NOW):
        by_nudge = upload(data).activity
        tasks.nudge(by_nudge.id)
    by_sweep_owner = type(user).objects.create_user("bob")
    with freeze_time(NOW):
        by_sweep = upload(data, owner=by_sweep_owner).activity
        assert sweep.sweep_once(owner="sweeper").claimed == 1

    def rows(activity):
        return {r.deriver: (r.version, r.status, bytes(r.data))
                for r in Derived.objects.filter(activity=activity)}

    assert rows(by_nudge) == rows(by_sweep)
    assert len(rows(by_nudge)) == len(derivers.ALL)


def test_corrupt_file_fails_at_once_with_a_readable_error_and_is_not_retried(upload):
    corrupt = factories.gpx()[:300]  # cut off mid-element: the XML does not parse
    with freeze_time(NOW):
        activity = upload(corrupt).activity
        assert sweep.sweep_once().claimed == 1
        activity.refresh_from_db()
        assert activity.status == Activity.Status.FAILED
        assert not activity.needs_work
        assert activity.error_code == "CorruptFile"
        assert len(activity.error_message) > 20
        # Nothing is due any more, however long we wait.
        assert sweep.sweep_once(now=NOW + timedelta(days=30)).claimed == 0
    track = Derived.objects.get(activity=activity, deriver="track")
    assert track.status == Derived.Status.FAILED
    assert not Derived.objects.filter(activity=activity, deriver="summary").exists()


def test_transient_error_is_retried_with_backoff_then_dead(upload, settings, monkeypatch):
    settings.CAIRN_MAX_ATTEMPTS = 3
    summary = derivers.BY_NAME["summary"]

    def flaky(track):
        raise DeriveError("The disk went away.", code="StorageDown", permanent=False)

    monkeypatch.setitem(summary.__dict__, "derive", flaky)
    with freeze_time(NOW) as clock:
        activity = upload().activity
        outcomes = []
        for _ in range(3):
            [claim] = leases.claim(limit=1, now=timezone.now(), owner="w-1") or [None]
            outcomes.append(reconcile_one(claim, trigger=Attempt.Trigger.SWEEP))
            activity.refresh_from_db()
            if activity.needs_work:
                assert activity.due_at > timezone.now()  # backing off
                clock.move_to(activity.due_at)
    assert outcomes == [Attempt.Outcome.RETRYING, Attempt.Outcome.RETRYING,
                        Attempt.Outcome.DEAD]
    assert activity.status == Activity.Status.DEAD
    assert activity.error_code == "StorageDown"
    # The track survived the summary's failures: only the summary was tried again.
    track = Derived.objects.get(activity=activity, deriver="track")
    assert track.status == Derived.Status.READY
    runs = list(Attempt.objects.filter(activity=activity).order_by("id")
                .values_list("derivers_run", flat=True))
    everything = [d.name for d in derivers.ALL]
    assert runs == [everything, ["summary"], ["summary"]]
    assert drift.count(now=timezone.now())["dead"] == 1
    # Replayed once the cause is fixed: `resync --dead` does exactly this.
    monkeypatch.undo()
    with freeze_time(NOW + timedelta(days=1)):
        assert resync.resync(Activity.objects.filter(status="dead"), now=timezone.now(),
                             revive_dead=True) == 1
        sweep.drain()
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    assert activity.attempts == 0


def test_unexpected_exception_in_a_deriver_is_transient(upload, monkeypatch):
    summary = derivers.BY_NAME["summary"]
    monkeypatch.setitem(summary.__dict__, "derive", lambda track: 1 / 0)
    with freeze_time(NOW):
        activity = upload().activity
        outcome = reconcile_one(_claim(activity.id), trigger=Attempt.Trigger.NUDGE)
    activity.refresh_from_db()
    assert outcome == Attempt.Outcome.RETRYING
    assert activity.status == Activity.Status.QUEUED
    assert activity.needs_work
    assert activity.error_code == "ZeroDivisionError"
    assert "retried" in activity.error_message
