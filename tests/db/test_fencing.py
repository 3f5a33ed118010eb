"""A worker that lost its lease cannot write: the token is checked where it writes."""

from datetime import timedelta

import pytest
from freezegun import freeze_time

from activities.models import Activity, Derived
from core import derivers
from reconciler import sweep
from reconciler.derivation import kind as activity_kind
from reconciler.derivation.reconcile import reconcile_one
from tests.conftest import NOW
from work import leases
from work.models import Attempt

pytestmark = pytest.mark.django_db


def test_worker_that_died_mid_file_is_replaced_and_its_late_write_rejected(upload, settings):
    lease = timedelta(seconds=settings.CAIRN_LEASE_S + 1)
    with freeze_time(NOW) as clock:
        activity = upload().activity
        [dead] = activity_kind.claim(limit=1, now=NOW, owner="dead-worker")
        # The worker is killed here: its lease runs out, and the next sweep takes over.
        clock.tick(lease)
        assert sweep.sweep_once(owner="live-worker").claimed == 1
        activity.refresh_from_db()
        assert activity.status == Activity.Status.READY
        rows_before = {r.deriver: (r.updated_at, bytes(r.data)) for r in activity.derived.all()}
        # The dead worker wakes up and finishes: every write it tries is refused.
        clock.tick(timedelta(seconds=5))
        outcome = reconcile_one(dead, trigger=Attempt.Trigger.SWEEP)
    assert outcome == Attempt.Outcome.LEASE_LOST
    rows_after = {r.deriver: (r.updated_at, bytes(r.data)) for r in activity.derived.all()}
    assert rows_after == rows_before
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    assert not activity.needs_work


def test_late_result_of_a_worker_whose_lease_was_taken_mid_derive_is_discarded(
        upload, settings, monkeypatch):
    """The dead worker is mid-file when its lease expires and another worker finishes the
    activity; when it comes back with its track, the write is refused."""
    track = derivers.BY_NAME["track"]
    real_derive = track.derive
    interleaved = []

    with freeze_time(NOW) as clock:

        def slow_derive(original, edits=None):
            if not interleaved:
                interleaved.append(True)
                clock.tick(timedelta(seconds=settings.CAIRN_LEASE_S + 1))
                assert sweep.sweep_once(owner="live-worker").claimed == 1
            return real_derive(original, edits)

        monkeypatch.setitem(track.__dict__, "derive", slow_derive)
        activity = upload().activity
        [slow] = activity_kind.claim(limit=1, now=NOW, owner="slow-worker")
        outcome = reconcile_one(slow, trigger=Attempt.Trigger.SWEEP)

    assert outcome == Attempt.Outcome.LEASE_LOST
    attempts = {a.worker: a for a in Attempt.objects.filter(kind="activity", row_id=activity.id)}
    assert attempts["live-worker"].outcome == Attempt.Outcome.CONVERGED
    assert attempts["slow-worker"].outcome == Attempt.Outcome.LEASE_LOST
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    assert not activity.needs_work
    assert set(activity.derived.values_list("deriver", flat=True)) == set(derivers.VERSIONS)


def test_hold_refuses_an_expired_lease_even_before_anyone_reclaims_it(upload, settings):
    with freeze_time(NOW):
        activity = upload().activity
        [claim] = activity_kind.claim(limit=1, now=NOW, owner="w-1")
    late = NOW + timedelta(seconds=settings.CAIRN_LEASE_S + 1)
    with pytest.raises(leases.LeaseLost):
        leases.hold(activity_kind.KIND, claim, now=late)
    assert not Derived.objects.filter(activity=activity).exists()


def test_hold_renews_a_live_lease(upload, settings):
    with freeze_time(NOW):
        activity = upload().activity
        [claim] = activity_kind.claim(limit=1, now=NOW, owner="w-1")
    later = NOW + timedelta(seconds=settings.CAIRN_LEASE_S - 1)
    assert leases.hold(activity_kind.KIND, claim, now=later) == (activity.generation, 1)
    expires = later + timedelta(seconds=settings.CAIRN_LEASE_S)
    activity.refresh_from_db()
    assert activity.lease_expires_at == expires
    assert Attempt.objects.get(id=claim.attempt_id).held_until == expires
    assert activity.due_at == expires
