"""Hosts whose clocks are 5 minutes off neither steal a live lease nor stall, because
lease and due times come from the database's clock."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from activities.models import Activity
from reconciler import sweep
from reconciler.derivation import kind as activity_kind

SKEW = timedelta(minutes=5)

pytestmark = [pytest.mark.postgres_only(reason="the database clock is PostgreSQL's"),
              pytest.mark.django_db]


def _worker_with_skewed_clock(offset, settings):
    """This process's clock moved by `offset`, as on a badly synchronised host."""
    return freeze_time(timezone.now() + offset, tick=True)


@pytest.mark.parametrize("clock", ["database", "local"])
def test_fast_clock_does_not_steal_a_live_lease(upload, settings, clock):
    from work import clock as shared

    settings.CAIRN_CLOCK = clock
    settings.CAIRN_LEASE_S = 120  # shorter than the skew
    activity = upload().activity
    assert activity_kind.claim_one(activity.id, now=shared.now(), owner="honest") is not None
    with _worker_with_skewed_clock(SKEW, settings):
        stolen = sweep.sweep_once(owner="fast").claimed
    if clock == "database":
        assert stolen == 0
    else:
        # The same test with each host's own clock: the lease is stolen. This is what the
        # database clock prevents (and shows the test can tell the difference).
        assert stolen == 1


@pytest.mark.parametrize("clock", ["database", "local"])
def test_slow_clock_does_not_stall_a_fresh_upload(upload, settings, clock):
    settings.CAIRN_CLOCK = clock
    with _worker_with_skewed_clock(SKEW, settings):
        activity = upload().activity  # the web host's clock is fast...
    with _worker_with_skewed_clock(-SKEW, settings):
        claimed = sweep.sweep_once(owner="slow").claimed  # ...and the worker's slow
    activity.refresh_from_db()
    if clock == "database":
        assert claimed == 1
        assert activity.status == Activity.Status.READY
    else:
        assert claimed == 0  # with local clocks the upload would wait ten minutes
