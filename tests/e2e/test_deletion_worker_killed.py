"""A real sweeper process is SIGKILLed in the middle of a deletion (its first step
committed, the second blocked): the deletion's lease runs out and another sweeper finishes
it from where it stopped."""

import signal
import time

import pytest
from django.db import transaction
from django.utils import timezone

from activities import deletion, ingest
from activities.models import Activity, Derived, Upload
from reconciler import sweep
from tests import factories
from tests.e2e.test_worker_killed import LEASE_S, _sweeper, _wait_for
from work.models import Attempt


@pytest.mark.postgres_only(reason="a row lock holds the worker mid-deletion")
@pytest.mark.django_db(transaction=True)
def test_a_sweeper_killed_mid_deletion_is_finished_by_the_next(user):
    activity = ingest.accept(factories.gpx(), owner=user, original_name="r.gpx").activity
    sweep.drain()
    assert Attempt.objects.filter(kind="activity", row_id=activity.id).exists()
    deletion.request(Activity.objects.filter(id=activity.id), now=timezone.now())

    doomed = _sweeper(CAIRN_CLOCK="database")
    try:
        with transaction.atomic():
            # The attempt log is the second step: locked here, the worker stops on it
            # after committing the first (the derived rows).
            list(Attempt.objects.select_for_update().filter(kind="activity", row_id=activity.id))
            _wait_for(lambda: not Derived.objects.filter(activity_id=activity.id).exists(),
                      timeout=30, what="the first step of the deletion")
            time.sleep(0.5)  # the worker is now waiting on the lock, inside step two
            doomed.send_signal(signal.SIGKILL)
            doomed.wait()
    finally:
        if doomed.poll() is None:
            doomed.kill()
    row = Activity.objects.get(id=activity.id)
    assert row.lease_token is not None and row.attempts == 1  # held, counted, unfinished
    # step two rolled back
    assert Attempt.objects.filter(kind="activity", row_id=activity.id).exists()

    rescuer = _sweeper(CAIRN_CLOCK="database")
    try:
        _wait_for(lambda: not Activity.objects.filter(id=activity.id).exists(),
                  timeout=LEASE_S + 60, what="the deletion to be finished")
    finally:
        rescuer.send_signal(signal.SIGTERM)
        rescuer.wait(timeout=30)
    assert not Attempt.objects.filter(kind="activity", row_id=activity.id).exists()
    assert not Upload.objects.filter(id=activity.upload_id).exists()
