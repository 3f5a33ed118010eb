"""explain.why: one plain sentence for each state an activity can be in."""

from datetime import timedelta

import pytest
from freezegun import freeze_time

from activities.models import Activity, Derived
from core import derivers
from reconciler import sweep
from reconciler.derivation import explain, resync
from reconciler.derivation import kind as activity_kind
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


def _why(activity):
    activity.refresh_from_db()
    return explain.why(activity, list(activity.derived.all()), now=NOW)


def test_fresh_activity_is_queued(upload):
    with freeze_time(NOW):
        activity = upload().activity
    assert _why(activity) == "Queued since 12:00:00 UTC: the next sweep or worker takes it."


def test_leased_activity_names_its_worker_and_lease_end(upload, settings):
    with freeze_time(NOW):
        activity = upload().activity
        activity_kind.claim_one(activity.id, now=NOW, owner="w-2")
    end = (NOW + timedelta(seconds=settings.CAIRN_LEASE_S)).strftime("%H:%M:%S")
    assert _why(activity) == f"Leased by worker w-2 until {end} UTC."


def test_expired_lease_is_taken_over_by_the_next_sweep(upload):
    with freeze_time(NOW):
        activity = upload().activity
        activity_kind.claim_one(activity.id, now=NOW, owner="w-2")
    Activity.objects.filter(id=activity.id).update(lease_expires_at=NOW - timedelta(minutes=1))
    assert _why(activity) == ("Worker w-2's lease ran out at 11:59:00 UTC: the next sweep "
                              "takes it over.")


def test_retrying_activity_says_when_and_after_how_many_failures(upload):
    with freeze_time(NOW):
        activity = upload().activity
    Activity.objects.filter(id=activity.id).update(
        attempts=3, due_at=NOW.replace(minute=42), error_message="The disk went away.")
    assert _why(activity) == ("Waiting to retry at 12:42:00 UTC after 3 failures "
                              "(last: The disk went away.)")


def test_old_version_output_is_rebuilt_by_the_next_sweep(upload):
    with freeze_time(NOW):
        activity = upload().activity
        sweep.drain()
    Derived.objects.filter(activity=activity, deriver="summary").update(version=0)
    current = derivers.VERSIONS["summary"]
    assert _why(activity) == (f"Summary is version 0, current is {current}: the next sweep "
                              "rebuilds it.")


def test_ready_failed_and_dead(upload):
    from tests import factories

    with freeze_time(NOW):
        ready = upload().activity
        failed = upload(factories.gpx()[:200]).activity
        sweep.drain()
    assert _why(ready) == "Ready: every output is at its current version."
    assert _why(failed).startswith("Failed: ")
    assert _why(failed).endswith("It is not retried until a re-sync or a new version of "
                                 "track.")
    Activity.objects.filter(id=ready.id).update(status="dead", attempts=5,
                                                error_message="Boom.")
    assert _why(ready).startswith("Gave up after 5 failures in a row (last: Boom.)")


def test_forced_resync_is_explained_while_pending_and_after(upload):
    with freeze_time(NOW):
        activity = upload().activity
        sweep.drain()
        resync.resync(Activity.objects.filter(id=activity.id), now=NOW, deriver="summary")
    assert _why(activity).startswith("Queued since")
    Activity.objects.filter(id=activity.id).update(needs_work=False)
    assert _why(activity) == "A re-sync of summary was asked: the next sweep rebuilds it."
