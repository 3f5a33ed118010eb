"""A slow file: the lease is renewed while the worker derives, so nobody takes it; a
worker whose lease is taken anyway stops and throws its results away."""

import time

import pytest
from django.db import connection

from activities.models import Activity, Derived
from core import derivers
from reconciler.derivation import kind as activity_kind
from reconciler.derivation.reconcile import reconcile_one
from work.models import Attempt

pytestmark = pytest.mark.django_db(transaction=True)

LEASE_S = 2


@pytest.fixture
def short_lease(settings):
    settings.CAIRN_LEASE_S = LEASE_S


def _slow_track(monkeypatch, during):
    """Make `track` take 2.5 leases, calling `during()` every 0.25 s meanwhile."""
    track = derivers.BY_NAME["track"]
    real = track.derive

    def slow(original, edits=None):
        deadline = time.monotonic() + 2.5 * LEASE_S
        while time.monotonic() < deadline:
            during()
            time.sleep(0.25)
        return real(original, edits)

    monkeypatch.setitem(track.__dict__, "derive", slow)


def test_slow_file_keeps_its_lease_and_no_one_steals_it(upload, short_lease, monkeypatch):
    activity = upload().activity
    stolen = []

    def try_to_steal():
        # Another worker, sweeping with the real clock, finds nothing due.
        stolen.extend(activity_kind.claim(limit=10, now=_now(), owner="thief"))

    _slow_track(monkeypatch, try_to_steal)
    claim = activity_kind.claim_one(activity.id, now=_now(), owner="slow")
    assert reconcile_one(claim, trigger=Attempt.Trigger.SWEEP) == Attempt.Outcome.CONVERGED
    assert stolen == []
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    attempt = Attempt.objects.get()
    assert (attempt.held_until - attempt.started_at).total_seconds() > 2.5 * LEASE_S


def test_worker_that_finds_its_lease_gone_stops_and_discards_its_results(
        upload, short_lease, monkeypatch):
    activity = upload().activity
    taken = []

    def take_over_once():
        if not taken:
            # Someone (an operator, a worker after a network partition) took the lease.
            Activity.objects.filter(id=activity.id).update(lease_token="f" * 32)
            taken.append(True)

    _slow_track(monkeypatch, take_over_once)
    claim = activity_kind.claim_one(activity.id, now=_now(), owner="slow")
    assert reconcile_one(claim, trigger=Attempt.Trigger.SWEEP) == Attempt.Outcome.LEASE_LOST
    assert not Derived.objects.filter(activity=activity).exists()


def _now():
    from work import clock

    connection.ensure_connection()
    return clock.now()
