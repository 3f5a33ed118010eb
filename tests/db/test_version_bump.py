"""A deriver's version bump rebuilds that kind (and its dependants) and nothing else."""

import dataclasses

import pytest
from freezegun import freeze_time

from activities.models import Activity, Derived
from core import derivers
from core.derivers.track import build_track
from reconciler import sweep
from reconciler.models import Rollout
from reconciler.operations import drift
from reconciler.rollouts import advance as rollouts
from tests import bumps as tests_bumps
from tests.conftest import NOW
from work.models import Attempt

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


def test_track_bump_that_moves_the_points_rebuilds_everything_that_reads_it(upload,
                                                                            monkeypatch):
    _ready(upload, 2)
    tests_bumps.bump(monkeypatch, "track", _moved_north)
    with freeze_time(NOW.replace(hour=13)):
        sweep.drain()
    versions = set(Derived.objects.values_list("deriver", "version"))
    assert versions == set(derivers.VERSIONS.items())
    ran = Attempt.objects.filter(kind="activity").order_by("-id")[:2]
    assert [a.detail["derivers"] for a in ran] == [[d.name for d in derivers.ALL]] * 2
    # Those whose bytes changed were written at the bump (the preview, a drawing scaled to
    # the route's own box, and the splits do not move).
    moved = set(Derived.objects.filter(updated_at=NOW.replace(hour=13))
                .values_list("deriver", flat=True))
    assert {"track", "summary", "route", "playback", "charts"} <= moved


def test_track_bump_to_the_same_bytes_rebuilds_nothing_after_it(upload, bump):
    """The same decoder at a new version gives the same track: what reads it does not run
    again, and no output's bytes are written (only the track's version moves)."""
    ids = _ready(upload, 2)
    before = {(d.activity_id, d.deriver): (d.version, bytes(d.data), d.updated_at)
              for d in Derived.objects.all()}
    bump("track")
    with freeze_time(NOW.replace(hour=13)):
        sweep.drain()
    ran = Attempt.objects.filter(kind="activity", row_id__in=ids).order_by("-id")[:2]
    assert [a.detail["derivers"] for a in ran] == [["track"]] * 2
    after = {(d.activity_id, d.deriver): (d.version, bytes(d.data), d.updated_at)
             for d in Derived.objects.all()}
    assert {key: (version - (key[1] == "track"), data, at)
            for key, (version, data, at) in after.items()} == before
    assert set(drift.old_versions().values()) == {0}


def _moved_north(original: bytes, edits: dict | None = None):
    """A track deriver whose points lie 100 m further north: every position moves."""
    track = build_track(original, edits)
    return dataclasses.replace(track, columns={**track.columns, "lat": track.lat + 0.0009})


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


def test_a_summary_bump_to_the_same_bytes_owes_no_book_a_rebuild(upload, bump):
    """The owner's records and training books name their inputs by content: the same code
    at a new version moves no signature, so neither is flagged nor rebuilt."""
    from records.models import Book
    from training.models import Book as TrainingBook

    _ready(upload, 3)
    books = list(Book.objects.values_list("user_id", "needs_work", "generation"))
    training = list(TrainingBook.objects.values_list("user_id", "needs_work", "generation"))
    assert books and training
    bump("summary")
    with freeze_time(NOW.replace(hour=13)):
        sweep.drain()
    assert set(drift.old_versions().values()) == {0}
    assert list(Book.objects.values_list("user_id", "needs_work", "generation")) == books
    assert list(TrainingBook.objects.values_list(
        "user_id", "needs_work", "generation")) == training
