"""Freshness through the registry: every kind's time from due to done, observed where the
kernel releases a row (one at a time, a batch, an orphan given up on), and the age of its
oldest row still needing work, fresh and backfill apart, on /metrics."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from freezegun import freeze_time
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from activities.models import Activity
from reconciler import sweep
from reconciler.derivation import kind as activity_kind
from reconciler.derivation import reconcile
from reconciler.models import Rollout, RolloutAction, Worker
from records.models import Book
from tests.conftest import NOW
from work import freshness, kinds, leases
from work.models import Leased

pytestmark = pytest.mark.django_db

FRESH, BACKFILL = Leased.Priority.FRESH, Leased.Priority.BACKFILL


def done(kind: str, outcome: str, *, le: str = "+Inf", priority: str = "fresh") -> float:
    """This process's count of `kind` rows done with `outcome` within `le` seconds."""
    return REGISTRY.get_sample_value("cairn_work_due_to_done_seconds_bucket", {
        "kind": kind, "priority": priority, "outcome": outcome, "le": le}) or 0.0


def test_an_upload_ready_counts_its_time_from_upload_to_ready(upload):
    before = {le: done("activity", "converged", le=le) for le in ("2.0", "5.0")}
    books = done("book", "converged", le="0.1")
    with freeze_time(NOW - timedelta(seconds=3)):
        upload()
    with freeze_time(NOW):
        sweep.sweep_once(owner="w-1")
    # Released as a batch: three seconds, in the 5 s bucket and not the 2 s one.
    assert done("activity", "converged", le="5.0") == before["5.0"] + 1
    assert done("activity", "converged", le="2.0") == before["2.0"]
    # Its owner's book, flagged and rebuilt in the same round, released one at a time.
    assert Book.objects.get().needs_work is False
    assert done("book", "converged", le="0.1") == books + 1


def test_an_orphan_given_up_on_counts_as_dead_with_its_priority(upload):
    made = upload().activity
    Activity.objects.filter(id=made.id).update(
        needs_work=True, priority=BACKFILL, pending_since=NOW - timedelta(minutes=10),
        lease_token="t" * 32, lease_owner="w-gone", due_at=NOW - timedelta(seconds=1),
        lease_expires_at=NOW - timedelta(seconds=1), attempts=settings.CAIRN_MAX_ATTEMPTS)
    before = {le: done("activity", "dead", le=le, priority="backfill") for le in ("300.0",
                                                                              "900.0")}
    assert leases.bury(activity_kind.KIND, now=NOW) == [made.id]
    assert done("activity", "dead", le="900.0", priority="backfill") == before["900.0"] + 1
    assert done("activity", "dead", le="300.0", priority="backfill") == before["300.0"]


def test_a_row_asked_for_again_while_held_counts_nothing_yet(upload):
    with freeze_time(NOW - timedelta(seconds=3)):
        made = upload().activity
    before = done("activity", "converged")
    with freeze_time(NOW):
        lease = activity_kind.claim_one(made.id, now=NOW, owner="w-1")
        # Asked again while held (a re-sync): converged, yet due again at once.
        Activity.objects.filter(id=made.id).update(generation=lease.generation + 1)
        assert reconcile.reconcile_one(lease, trigger="command") == "converged"
    assert Activity.objects.get(id=made.id).needs_work is True
    assert done("activity", "converged") == before


def test_oldest_pending_is_read_per_priority(upload):
    fresh, backfill, settled = upload().activity, upload().activity, upload().activity
    Activity.objects.filter(id=fresh.id).update(pending_since=NOW - timedelta(seconds=30))
    Activity.objects.filter(id=backfill.id).update(
        priority=BACKFILL, pending_since=NOW - timedelta(seconds=600))
    Activity.objects.filter(id=settled.id).update(needs_work=False,
                                                  pending_since=NOW - timedelta(days=1))
    assert freshness.oldest_pending(activity_kind.KIND, now=NOW) == {
        "fresh": 30.0, "backfill": 600.0}
    Activity.objects.filter(id__in=[fresh.id, backfill.id]).update(needs_work=False)
    assert freshness.oldest_pending(activity_kind.KIND, now=NOW) == {
        "fresh": None, "backfill": None}


def scraped() -> dict:
    with freeze_time(NOW):
        text = Client().get("/metrics").content.decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_metrics_show_freshness_the_last_sweep_and_rollouts(upload):
    made = upload().activity
    Activity.objects.filter(id=made.id).update(pending_since=NOW - timedelta(seconds=42))
    samples = scraped()
    for name in kinds.ALL:  # every registered kind, both priorities
        for priority in ("fresh", "backfill"):
            assert ("cairn_work_oldest_pending_age_seconds",
                    (("kind", name), ("priority", priority))) in samples
    assert samples[("cairn_work_oldest_pending_age_seconds",
                    (("kind", "activity"), ("priority", "fresh")))] == 42.0
    # No sweep ever ran: no made-up age (the alert's absent() fires instead).
    assert not any(name == "cairn_sweep_last_age_seconds" for name, _ in samples)

    Worker.objects.create(id="h:1", host="h", pid=1, versions={}, started_at=NOW,
                          last_seen=NOW, last_sweep_at=NOW - timedelta(seconds=90))
    rollout = Rollout.objects.create(deriver="summary", version=9, state="paused",
                                     started_at=NOW - timedelta(days=1))
    RolloutAction.objects.create(rollout=rollout, action="pause", by="ops",
                                 at=NOW - timedelta(hours=2), from_state="running",
                                 to_state="paused")
    samples = scraped()
    assert samples[("cairn_sweep_last_age_seconds", ())] == 90.0
    assert samples[("cairn_rollout_state_age_seconds",
                    (("deriver", "summary"), ("state", "paused"), ("version", "9")))] == 7200.0
