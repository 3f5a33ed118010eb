"""Claims: what gets leased, in which order, and what a duplicate claim writes."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from activities.models import Activity
from reconciler.derivation import kind as activity_kind
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


def test_claim_leases_due_activities_up_to_the_limit(upload):
    with freeze_time(NOW) as clock:
        ids = []
        for _ in range(3):
            ids.append(upload().activity.id)
            # One upload a second: the claim orders by arrival, and equal times have no order.
            clock.tick(timedelta(seconds=1))
        claims = activity_kind.claim(limit=2, now=NOW + timedelta(seconds=3), owner="w-1")
    assert [c.row_id for c in claims] == ids[:2]
    leased = Activity.objects.get(id=ids[0])
    assert leased.lease_owner == "w-1"
    assert leased.lease_token == claims[0].token
    assert leased.state == Activity.Status.PROCESSING
    assert leased.attempts == 1  # counted by the claim itself


def test_leased_activity_is_not_claimed_again_until_its_lease_expires(upload, settings):
    with freeze_time(NOW) as clock:
        activity = upload().activity
        assert activity_kind.claim(limit=10, now=NOW, owner="w-1")
        assert activity_kind.claim(limit=10, now=NOW, owner="w-2") == []
        clock.tick(timedelta(seconds=settings.CAIRN_LEASE_S + 1))
        stolen = activity_kind.claim(limit=10,
                                     now=NOW + timedelta(seconds=settings.CAIRN_LEASE_S + 1),
                              owner="w-2")
    assert [c.row_id for c in stolen] == [activity.id]


def test_fresh_uploads_are_claimed_before_backfill(upload):
    with freeze_time(NOW):
        old = upload().activity
        new = upload().activity
    Activity.objects.filter(id=old.id).update(priority=Activity.Priority.BACKFILL,
                                              due_at=NOW - timedelta(days=1))
    claims = activity_kind.claim(limit=1, now=NOW, owner="w-1")
    assert [c.row_id for c in claims] == [new.id]


def test_activity_due_later_is_not_claimed(upload):
    with freeze_time(NOW):
        activity = upload().activity
    Activity.objects.filter(id=activity.id).update(due_at=NOW + timedelta(minutes=5))
    assert activity_kind.claim(limit=10, now=NOW, owner="w-1") == []
    assert activity_kind.claim_one(activity.id, now=NOW, owner="w-1") is None


def test_claim_one_of_an_up_to_date_activity_writes_nothing(upload):
    with freeze_time(NOW):
        activity = upload().activity
    Activity.objects.filter(id=activity.id).update(needs_work=False)
    with CaptureQueriesContext(connection) as queries:
        assert activity_kind.claim_one(activity.id, now=NOW, owner="w-1") is None
    assert [q["sql"].split()[0].upper() for q in queries.captured_queries] == ["SELECT"]


def test_second_claim_one_of_a_leased_activity_gets_nothing(upload):
    with freeze_time(NOW):
        activity = upload().activity
        first = activity_kind.claim_one(activity.id, now=NOW, owner="w-1")
        second = activity_kind.claim_one(activity.id, now=NOW, owner="w-2")
    assert first is not None
    assert second is None


def test_orphan_is_claimed_before_uploads_newer_than_it(upload, settings):
    lease = timedelta(seconds=settings.CAIRN_LEASE_S + 1)
    with freeze_time(NOW) as clock:
        orphan = upload().activity
        activity_kind.claim(limit=1, now=NOW, owner="killed")  # its worker dies with the lease
        clock.tick(timedelta(seconds=5))
        newer = [upload().activity.id for _ in range(3)]  # arrive while it is held
        clock.tick(lease)
        first = activity_kind.claim(limit=1, now=NOW + lease + timedelta(seconds=5), owner="w-2")
    assert [c.row_id for c in first] == [orphan.id]
    assert orphan.id not in newer


def test_orphan_is_claimed_before_a_backlog_older_than_it(upload, settings):
    # The chaos run's slowest rescues: an orphan waited its turn behind uploads pending
    # for longer than it, when the workers were behind. Orphans now go first.
    lease = timedelta(seconds=settings.CAIRN_LEASE_S + 1)
    with freeze_time(NOW) as clock:
        backlog = [upload().activity.id for _ in range(3)]
        clock.tick(timedelta(seconds=5))
        orphan = upload().activity
        # Its worker takes it (a nudge) and dies with the lease.
        assert activity_kind.claim_one(orphan.id, now=NOW + timedelta(seconds=5), owner="killed")
        clock.tick(lease)
        first = activity_kind.claim(limit=2, now=NOW + lease + timedelta(seconds=5), owner="w-2")
        then = activity_kind.claim(limit=2, now=NOW + lease + timedelta(seconds=5), owner="w-2")
    assert [c.row_id for c in first] == [orphan.id]  # alone (test_expired_leases.py)
    assert [c.row_id for c in then] == backlog[:2]
