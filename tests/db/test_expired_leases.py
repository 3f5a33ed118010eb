"""Orphans: an attempt is counted when its lease is taken, so a worker that dies holding
it has used one; an orphan is reconciled alone; one at CAIRN_MAX_ATTEMPTS is dead."""

import hashlib
import io
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time
from prometheus_client import REGISTRY

from activities import zips
from activities.expansion import kind as archive_kind
from activities.models import Activity, Archive
from core import derivers
from reconciler import sweep
from reconciler.derivation import explain, resync
from reconciler.derivation import kind as activity_kind
from reconciler.operations import drift
from tests import factories
from tests.conftest import NOW
from work import leases as work_leases
from work.models import Attempt

pytestmark = pytest.mark.django_db


class Killed(BaseException):
    """Stands for SIGKILL in-process: nothing catches it, nothing settles, the lease and
    the open attempt stay behind (tests/e2e/test_poison_file.py kills a real process)."""


def _die_on(activity_id, monkeypatch):
    """The track deriver kills its worker whenever it holds this activity."""
    track = derivers.BY_NAME["track"]
    real = track.derive
    poison = Activity.objects.get(id=activity_id).sha256

    def derive(original, edits=None):
        if hashlib.sha256(original).hexdigest() == poison:
            raise Killed
        return real(original, edits)

    monkeypatch.setitem(track.__dict__, "derive", derive)


def _lease_runs_out(clock, settings):
    clock.tick(timedelta(seconds=settings.CAIRN_LEASE_S + 1))


def test_the_claim_itself_counts_the_attempt(upload, user):
    # A second apart, so that "oldest pending first" names the batch (equal times may be
    # claimed in any order).
    with freeze_time(NOW - timedelta(seconds=3)) as frozen:
        batch = []
        for _ in range(2):
            batch.append(upload().activity.id)
            frozen.tick(timedelta(seconds=1))
        one = upload().activity.id
    with freeze_time(NOW):
        claims = activity_kind.claim(limit=2, now=NOW, owner="w-1")
        assert activity_kind.claim_one(one, now=NOW, owner="w-2") is not None
        archive = zips.accept(io.BytesIO(factories.archive([("a.gpx", factories.gpx())])),
                              owner=user, original_name="export.zip").upload.archive
        assert work_leases.claim(archive_kind.KIND, limit=1, now=NOW, owner="w-3",
                                 trigger="sweep")
    assert [c.row_id for c in claims] == batch
    attempts = dict(Activity.objects.values_list("id", "attempts"))
    assert attempts == {batch[0]: 1, batch[1]: 1, one: 1}
    assert Archive.objects.get(id=archive.id).attempts == 1


def test_an_orphan_is_claimed_alone_and_its_batch_mates_after_it(upload, settings):
    with freeze_time(NOW) as clock:
        orphan = upload().activity
        assert activity_kind.claim(limit=10, now=timezone.now(), owner="killed")
        others = [upload().activity.id for _ in range(3)]
        _lease_runs_out(clock, settings)
        first = activity_kind.claim(limit=10, now=timezone.now(), owner="w-2")
        second = activity_kind.claim(limit=10, now=timezone.now(), owner="w-2")
    assert [c.row_id for c in first] == [orphan.id]
    assert [c.row_id for c in second] == others


def test_a_poison_file_costs_its_batch_mates_one_lease_at_most(upload, settings,
                                                                 monkeypatch):
    settings.CAIRN_MAX_ATTEMPTS = 3
    with freeze_time(NOW) as clock:
        ids = [upload().activity.id for _ in range(4)]
        poison = ids[1]
        _die_on(poison, monkeypatch)
        deaths = 0
        for _ in range(20):
            try:
                if not sweep.sweep_once(owner=f"worker-{deaths}").found_work:
                    break
            except Killed:
                deaths += 1
                _lease_runs_out(clock, settings)
    states = dict(Activity.objects.values_list("id", "status"))
    assert states[poison] == Activity.Status.DEAD
    assert all(states[i] == Activity.Status.READY for i in ids if i != poison)
    assert deaths == settings.CAIRN_MAX_ATTEMPTS
    # Only the first death took batch-mates with it: one lost attempt each.
    lost = Attempt.objects.filter(outcome=Attempt.Outcome.WORKER_DIED).exclude(
        row_id=poison)
    assert sorted(lost.values_list("row_id", flat=True)) == [ids[0], ids[2], ids[3]]


def _killed(times: int, clock, settings):
    """Sweep `times`, each killed by the poison, its lease running out after; returns when
    the last one took the lease."""
    for n in range(times):
        with pytest.raises(Killed):
            sweep.sweep_once(owner=f"worker-{n}")
        taken = timezone.now()
        _lease_runs_out(clock, settings)
    return taken


def _dead_orphans() -> float:
    return REGISTRY.get_sample_value("cairn_expired_leases_total", {"outcome": "dead"}) or 0.0


def test_an_orphan_at_max_attempts_is_dead_with_a_sentence(upload, settings, monkeypatch,
                                                            admin_client):
    settings.CAIRN_MAX_ATTEMPTS = 3
    counted = _dead_orphans()
    settings.CAIRN_LEASE_S = 60
    with freeze_time(NOW) as clock:
        activity = upload().activity
        _die_on(activity.id, monkeypatch)
        last_claim = _killed(3, clock, settings)
        assert activity_kind.claim(limit=10, now=timezone.now(), owner="w-4") == []
        now = timezone.now()
    activity.refresh_from_db()
    assert activity.status == Activity.Status.DEAD
    assert activity.state == Activity.Status.DEAD
    assert not activity.needs_work
    assert (activity.lease_token, activity.lease_owner, activity.lease_expires_at) == (
        None, "", None)
    assert activity.error_code == "WorkerDied"
    assert activity.error_message == (
        f"The worker processing this file stopped 3 times before finishing (last at "
        f"{last_claim:%H:%M:%S} UTC); it will not be tried again until it is re-synced.")
    # Every attempt it killed is closed where its lease ran out, none left open.
    attempts = list(Attempt.objects.filter(kind="activity", row_id=activity.id).order_by("id"))
    assert [a.outcome for a in attempts] == [Attempt.Outcome.WORKER_DIED] * 3
    assert all(a.ended_at == a.held_until for a in attempts)
    # It shows as dead letters do.
    counts = drift.count(now=now)
    assert (counts["dead"], counts["pending"], counts["stale_leases"]) == (1, 0, 0)
    why = explain.why(activity, [], now=now)
    assert why.startswith("The worker processing this file stopped 3 times")
    assert f"resync --ids {activity.id}" in why
    assert [a["outcome"] for a in explain.timeline(activity)] == ["worker_died"] * 3
    assert _dead_orphans() == counted + 1
    listing = admin_client.get("/admin/activities/activity/?state=dead")
    assert b"WorkerDied" in listing.content


def test_a_dead_orphan_is_replayed_by_resync_with_its_count_reset(upload, settings,
                                                                   monkeypatch):
    settings.CAIRN_MAX_ATTEMPTS = 2
    with freeze_time(NOW) as clock:
        activity = upload().activity
        _die_on(activity.id, monkeypatch)
        _killed(2, clock, settings)
        sweep.sweep_once(owner="w-3")
        assert Activity.objects.get(id=activity.id).status == Activity.Status.DEAD
        monkeypatch.undo()  # the cause is fixed
        assert resync.resync(Activity.objects.filter(status="dead"), now=timezone.now(),
                             revive_dead=True) == 1
        assert Activity.objects.get(id=activity.id).attempts == 0
        sweep.drain()
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    assert activity.attempts == 0


def test_claim_one_of_an_orphan_at_max_attempts_makes_it_dead(upload, settings):
    settings.CAIRN_MAX_ATTEMPTS = 1
    with freeze_time(NOW) as clock:
        activity = upload().activity
        assert activity_kind.claim_one(activity.id, now=timezone.now(), owner="killed")
        _lease_runs_out(clock, settings)
        assert activity_kind.claim_one(activity.id, now=timezone.now(), owner="nudge") is None
    activity.refresh_from_db()
    assert activity.status == Activity.Status.DEAD
    assert activity.error_code == "WorkerDied"


def test_an_orphan_below_max_attempts_is_taken_over_and_converges(upload, settings):
    with freeze_time(NOW) as clock:
        activity = upload().activity
        [dead] = activity_kind.claim(limit=1, now=timezone.now(), owner="killed")
        # The claim opened its attempt (work.attempts.start).
        reconcile_attempt = Attempt.objects.get(id=dead.attempt_id)
        _lease_runs_out(clock, settings)
        assert sweep.sweep_once(owner="rescuer").claimed == 1
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    assert activity.attempts == 0
    reconcile_attempt.refresh_from_db()
    assert reconcile_attempt.outcome == Attempt.Outcome.WORKER_DIED
    assert reconcile_attempt.ended_at == dead.expires_at


def test_an_archive_whose_workers_keep_dying_is_given_up(user, settings):
    settings.CAIRN_MAX_ATTEMPTS = 2
    with freeze_time(NOW) as clock:
        archive = zips.accept(io.BytesIO(factories.archive([("a.gpx", factories.gpx())])),
                              owner=user, original_name="export.zip").upload.archive
        for n in range(2):
            assert work_leases.claim(archive_kind.KIND, limit=1, now=timezone.now(),
                                     owner=f"killed-{n}", trigger="sweep")
            _lease_runs_out(clock, settings)
        assert work_leases.claim(archive_kind.KIND, limit=1, now=timezone.now(),
                                 owner="w-3", trigger="sweep") == []
    archive.refresh_from_db()
    assert not archive.needs_work and archive.lease_token is None
    assert archive.error_code == "WorkerDied"
    assert archive.error_message.startswith(
        "The worker expanding this archive stopped 2 times before finishing")
