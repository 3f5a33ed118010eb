"""A deriver's version bump rebuilds that kind (and its dependants) and nothing else."""

import dataclasses

import pytest
from freezegun import freeze_time

from activities.models import Activity, Derived
from core import derivers
from reconciler import sweep
from reconciler.models import Rollout
from reconciler.operations import drift
from reconciler.rollouts import advance as rollouts
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _promoted_at_once(settings):
    """These bumps roll out as previews and charts do, without a preview
    (tests/db/test_rollout_control.py covers previews and the operator's actions)."""
    settings.CAIRN_ROLLOUT_PREVIEW = []


@pytest.fixture
def bump(monkeypatch):
    """Replace a deriver by the same one at version + 1, as a deploy would."""

    def apply(name: str) -> None:
        bumped = tuple(dataclasses.replace(d, version=d.version + 1) if d.name == name else d
                       for d in derivers.ALL)
        monkeypatch.setattr(derivers, "ALL", bumped)
        monkeypatch.setattr(derivers, "BY_NAME", {d.name: d for d in bumped})
        monkeypatch.setattr(derivers, "VERSIONS", {d.name: d.version for d in bumped})
        rollouts.SEEN.reset()

    return apply


def _ready(upload, count):
    with freeze_time(NOW):
        ids = [upload().activity.id for _ in range(count)]
        sweep.drain()
    assert set(Activity.objects.values_list("status", flat=True)) == {"ready"}
    return ids


def test_summary_bump_rebuilds_summaries_and_leaves_tracks_untouched(upload, bump):
    ids = _ready(upload, 5)
    tracks_before = dict(Derived.objects.filter(deriver="track")
                         .values_list("activity_id", "updated_at"))
    bump("summary")
    assert drift.old_versions()["summary"] == 5
    with freeze_time(NOW.replace(hour=13)):
        sweep.drain()
    assert set(drift.old_versions().values()) == {0}
    assert set(Derived.objects.filter(deriver="summary").values_list("version", flat=True)) == {
        derivers.VERSIONS["summary"]}
    tracks_after = dict(Derived.objects.filter(deriver="track")
                        .values_list("activity_id", "updated_at"))
    assert tracks_after == tracks_before
    assert not Activity.objects.filter(id__in=ids, needs_work=True).exists()
    assert Rollout.objects.get(deriver="summary", version=derivers.VERSIONS["summary"]).flagged == 5


def test_track_bump_rebuilds_track_and_everything_that_reads_it(upload, bump):
    _ready(upload, 2)
    bump("track")
    with freeze_time(NOW.replace(hour=13)):
        sweep.drain()
    versions = set(Derived.objects.values_list("deriver", "version"))
    assert versions == set(derivers.VERSIONS.items())
    assert set(Derived.objects.values_list("updated_at", flat=True)) == {NOW.replace(hour=13)}


def test_fresh_upload_is_processed_before_the_backlog_of_a_bump(upload, bump, settings):
    settings.CAIRN_CLAIM_BATCH = 2
    _ready(upload, 6)
    bump("summary")
    with freeze_time(NOW.replace(hour=13)):
        rollouts.advance(now=NOW.replace(hour=13), batch=1000)  # the backlog is flagged
        fresh = upload().activity
        first = sweep.sweep_once(owner="w-1")
    assert first.claimed == 2
    fresh.refresh_from_db()
    assert fresh.status == Activity.Status.READY
    assert Activity.objects.filter(needs_work=True).count() == 5


def test_rollout_batches_stay_bounded(upload, bump, settings):
    settings.CAIRN_ROLLOUT_BATCH = 2
    _ready(upload, 5)
    bump("summary")
    with freeze_time(NOW.replace(hour=13)):
        scanned = rollouts.advance(now=NOW.replace(hour=13), batch=2)
    assert scanned == 2
    assert Activity.objects.filter(needs_work=True).count() == 2


def test_at_the_end_of_its_pass_a_rollout_waits_for_the_backfill_without_reading_outputs(
        upload, bump):
    """Once every activity is flagged, the rollout's step reads no stored output while the
    backfill is pending (each round would read every old one), then finishes after it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    _ready(upload, 4)
    bump("summary")
    later = NOW.replace(hour=13)
    with freeze_time(later):
        assert rollouts.advance(now=later, batch=1000) == 4  # the whole pass, all flagged
        with CaptureQueriesContext(connection) as queries:
            assert rollouts.advance(now=later, batch=1000) == 0
        assert not [q for q in queries.captured_queries if "activities_derived" in q["sql"]]
        rollout = Rollout.objects.get(deriver="summary",
                                      version=derivers.VERSIONS["summary"])
        assert rollout.finished_at is None
        sweep.drain()
    rollout.refresh_from_db()
    assert rollout.state == Rollout.State.FINISHED
    assert set(drift.old_versions().values()) == {0}
