"""Forced re-sync: rebuild what was asked, even at current versions."""

import pytest
from freezegun import freeze_time

from activities.models import Activity, Derived
from reconciler import sweep
from reconciler.derivation import kind as activity_kind
from reconciler.derivation import resync
from reconciler.operations import drift
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


def _ready(upload, count):
    with freeze_time(NOW):
        ids = [upload().activity.id for _ in range(count)]
        sweep.drain()
    return ids


def test_resync_of_one_deriver_rebuilds_it_alone(upload):
    ids = _ready(upload, 3)
    later = NOW.replace(hour=14)
    count = resync.resync(Activity.objects.filter(id__in=ids[:2]), now=later, deriver="summary")
    assert count == 2
    assert drift.count(now=later)["forced"] == 2
    with freeze_time(later):
        sweep.drain()
    rebuilt = set(Derived.objects.filter(updated_at=later).values_list("activity_id", "deriver"))
    assert rebuilt == {(ids[0], "summary"), (ids[1], "summary")}
    assert drift.count(now=later)["forced"] == 0
    assert not Activity.objects.filter(needs_work=True).exists()


def test_resync_all_rebuilds_every_output(upload):
    _ready(upload, 3)
    later = NOW.replace(hour=14)
    resync.resync(Activity.objects.all(), now=later)
    with freeze_time(later):
        sweep.drain()
    assert set(Derived.objects.values_list("updated_at", flat=True)) == {later}


def test_resync_during_processing_is_not_lost(upload):
    """A re-sync that lands while a worker holds the activity makes it go round again."""
    from reconciler.derivation.reconcile import reconcile_one
    from work.models import Attempt

    with freeze_time(NOW):
        activity = upload().activity
        claim = activity_kind.claim_one(activity.id, now=NOW, owner="w-1")
        resync.resync(Activity.objects.filter(id=activity.id), now=NOW, deriver="summary")
        assert reconcile_one(claim, trigger=Attempt.Trigger.SWEEP) == Attempt.Outcome.CONVERGED
        activity.refresh_from_db()
        assert activity.needs_work  # the re-sync is still owed
        sweep.drain()
    activity.refresh_from_db()
    assert not activity.needs_work
    assert activity.status == Activity.Status.READY
    assert Attempt.objects.filter(kind="activity", row_id=activity.id).count() == 2
