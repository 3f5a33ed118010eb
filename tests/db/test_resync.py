"""Forced re-sync: rebuild what was asked, even at current versions."""

import pytest
from freezegun import freeze_time

from activities.models import Activity, Derived
from core import derivers
from reconciler import sweep
from reconciler.derivation import kind as activity_kind
from reconciler.derivation import resync
from reconciler.operations import drift
from tests.conftest import NOW
from work.models import Attempt

pytestmark = pytest.mark.django_db


def _ready(upload, count):
    with freeze_time(NOW):
        ids = [upload().activity.id for _ in range(count)]
        sweep.drain()
    return ids


def _ran(ids, since):
    """The derivers each activity's attempts ran after `since`, by activity id."""
    ran = {}
    for row in Attempt.objects.filter(kind="activity", row_id__in=ids, id__gt=since):
        ran.setdefault(row.row_id, []).extend(row.detail["derivers"])
    return ran


def _last_attempt() -> int:
    return Attempt.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_resync_of_one_deriver_rebuilds_it_alone(upload):
    ids = _ready(upload, 3)
    before = _stored()
    since = _last_attempt()
    later = NOW.replace(hour=14)
    count = resync.resync(Activity.objects.filter(id__in=ids[:2]), now=later, deriver="summary")
    assert count == 2
    assert drift.count(now=later)["forced"] == 2
    with freeze_time(later):
        sweep.drain()
    assert _ran(ids, since) == {ids[0]: ["summary"], ids[1]: ["summary"]}
    assert drift.count(now=later)["forced"] == 0
    assert not Activity.objects.filter(needs_work=True).exists()
    assert _stored() == before  # the same bytes: not written again


def test_resync_all_reruns_every_deriver_and_writes_no_output_it_left_unchanged(upload):
    """A re-sync that changes nothing writes nothing: every deriver runs again, and no
    output's bytes, updated_at or ETag move; nor is any records book owed a rebuild."""
    from records.models import Book

    ids = _ready(upload, 3)
    books = list(Book.objects.values_list("user_id", "needs_work", "generation"))
    assert books and not any(needs_work for _, needs_work, _ in books)
    before = _stored()
    since = _last_attempt()
    later = NOW.replace(hour=14)
    resync.resync(Activity.objects.all(), now=later)
    with freeze_time(later):
        sweep.drain()
    assert _ran(ids, since) == {i: [d.name for d in derivers.ALL] for i in ids}
    assert _stored() == before
    assert set(Derived.objects.values_list("status", flat=True)) == {Derived.Status.READY}
    assert list(Book.objects.values_list("user_id", "needs_work", "generation")) == books


def _stored():
    return sorted((d.activity_id, d.deriver, d.version, bytes(d.data), d.updated_at,
                   d.etag()) for d in Derived.objects.all())


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
