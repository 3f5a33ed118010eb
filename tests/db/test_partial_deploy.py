"""Partial deploys: old code never claims newer outputs, never writes below them, and
steps aside while newer code runs; workers' heartbeats show who runs what."""

import dataclasses
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from activities.models import Activity, Derived
from core import derivers
from reconciler import sweep
from reconciler.derivation import kind as activity_kind
from reconciler.derivation import resync
from reconciler.models import Worker
from reconciler.operations import drift, workers
from reconciler.rollouts import advance as rollouts
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def code(monkeypatch):
    """Switch this process between the old code and the new (summary one version up)."""
    old = derivers.ALL
    new = tuple(dataclasses.replace(d, version=d.version + 1) if d.name == "summary" else d
                for d in old)

    def run(which: str) -> None:
        chosen = new if which == "new" else old
        monkeypatch.setattr(derivers, "ALL", chosen)
        monkeypatch.setattr(derivers, "BY_NAME", {d.name: d for d in chosen})
        monkeypatch.setattr(derivers, "VERSIONS", {d.name: d.version for d in chosen})
        rollouts.SEEN.reset()

    return run


def test_old_code_never_claims_an_activity_whose_outputs_are_newer(upload, code):
    code("new")
    with freeze_time(NOW):
        activity = upload().activity
        sweep.drain()
        resync.resync(Activity.objects.all(), now=NOW)
    code("old")
    assert activity_kind.claim(limit=10, now=NOW, owner="old") == []
    assert activity_kind.claim_one(activity.id, now=NOW, owner="old") is None
    code("new")
    assert [c.row_id for c in activity_kind.claim(limit=10, now=NOW, owner="new")] == [
        activity.id]


def test_old_code_never_overwrites_a_newer_output(upload, code, monkeypatch):
    """An old worker is mid-summary when a newer summary lands: its write is dropped."""
    from reconciler.derivation.reconcile import reconcile_one
    from work.models import Attempt

    code("old")
    summary = derivers.BY_NAME["summary"]
    real = summary.derive

    def slow_summary(track):
        value = real(track)
        Derived.objects.filter(deriver="summary").update(version=summary.version + 1,
                                                         data=b'{"newer": true}')
        return value

    with freeze_time(NOW):
        activity = upload().activity
        claim = activity_kind.claim_one(activity.id, now=NOW, owner="old")
        tasks_track = derivers.BY_NAME["track"]
        # The newer summary exists before the old worker writes its own.
        Derived.objects.create(activity=activity, deriver="summary",
                               version=summary.version + 1, status="ready",
                               data=b'{"newer": true}', updated_at=NOW)
        monkeypatch.setitem(summary.__dict__, "derive", slow_summary)
        outcome = reconcile_one(claim, trigger=Attempt.Trigger.SWEEP)
    assert tasks_track.name in Attempt.objects.get().detail["derivers"]
    row = Derived.objects.get(activity=activity, deriver="summary")
    assert row.version == summary.version + 1
    assert bytes(row.data) == b'{"newer": true}'
    assert outcome == Attempt.Outcome.CONVERGED


def test_workers_record_heartbeats_with_their_code_versions(upload):
    with freeze_time(NOW):
        sweep.sweep_once(owner="w-1")
    [worker] = Worker.objects.all()
    assert worker.id == workers.identity()
    assert worker.versions == derivers.VERSIONS
    assert worker.last_seen == NOW
    assert drift.count(now=NOW)["workers"] == [{
        "id": worker.id, "versions": derivers.VERSIONS, "last_seen": "2026-01-15T12:00:00Z",
        "live": True, "outdated": False}]


def test_old_worker_steps_aside_while_newer_code_is_live_and_drift_flags_it(upload, code):
    with freeze_time(NOW):
        activity = upload().activity
    newer = {**derivers.VERSIONS, "summary": derivers.VERSIONS["summary"] + 1}
    Worker.objects.create(id="new-host:1", host="new-host", pid=1, versions=newer,
                          started_at=NOW, last_seen=NOW)
    with freeze_time(NOW):
        assert sweep.sweep_once().claimed == 0
        flagged = {w["id"]: w["outdated"] for w in drift.count(now=NOW)["workers"]}
    assert flagged == {"new-host:1": False, workers.identity(): True}
    activity.refresh_from_db()
    assert activity.needs_work
    # The newer worker is gone (rolled back): the old one takes over again.
    later = NOW + workers.live_window() + timedelta(seconds=1)
    with freeze_time(later):
        assert sweep.sweep_once().claimed == 1


def test_output_written_by_old_code_after_a_rollout_finished_is_flagged(upload, code):
    code("new")
    with freeze_time(NOW):
        ids = [upload().activity.id for _ in range(3)]
        sweep.drain()
    # An old worker wrote this summary during the deploy, after the rollout had passed.
    Derived.objects.filter(activity_id=ids[1], deriver="summary").update(
        version=derivers.VERSIONS["summary"] - 1)
    later = timezone.now()
    with freeze_time(later):
        sweep.drain()
    row = Derived.objects.get(activity_id=ids[1], deriver="summary")
    assert row.version == derivers.VERSIONS["summary"]
