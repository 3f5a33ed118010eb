"""drift.count: every kind of difference from the wanted state, counted."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from activities.models import Activity
from reconciler import sweep
from reconciler.derivation import kind as activity_kind
from reconciler.operations import drift
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db

KEYS = {"total", "pending", "missing", "stale_leases", "old_version", "forced", "leased",
        "retrying", "failed", "dead", "oldest_pending_age_s", "rollouts", "workers",
        "webhooks", "records", "training", "sessions", "work"}


def test_drift_of_an_empty_database_is_zero():
    counts = drift.count(now=NOW)
    assert set(counts) == KEYS
    assert counts["total"] == counts["pending"] == counts["missing"] == 0
    assert counts["oldest_pending_age_s"] is None


def test_drift_counts_each_kind(upload, settings):
    with freeze_time(NOW) as clock:
        upload(factories.gpx()[:200])  # corrupt: fails
        for _ in range(2):
            upload()
        sweep.drain()
        upload()  # missing: never processed
        leased = upload().activity
        stale = upload().activity
        activity_kind.claim_one(leased.id, now=timezone.now(), owner="w-1")
        activity_kind.claim_one(stale.id, now=timezone.now(), owner="w-dead")
        # w-dead died: its lease ran out a second ago.
        Activity.objects.filter(id=stale.id).update(
            lease_expires_at=timezone.now() - timedelta(seconds=1))
        clock.tick(timedelta(seconds=30))
        counts = drift.count(now=timezone.now())
    assert counts["total"] == 6
    assert counts["pending"] == 3
    assert counts["missing"] == 1
    assert counts["leased"] == 1
    assert counts["stale_leases"] == 1
    assert counts["failed"] == 1
    assert counts["dead"] == 0
    assert counts["oldest_pending_age_s"] == 30.0
