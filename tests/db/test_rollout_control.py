"""Rollouts an operator controls: a version bump starts a preview that changes nothing
users see; the report measures what would change; promote, pause, throttle, roll back and
finish; a crash anywhere resumes."""

import dataclasses
import math
import statistics
import threading
from datetime import timedelta

import pytest
from django.db import connection
from freezegun import freeze_time

from activities import serialize
from activities.models import Activity, Derived
from core import derivers
from core.derivers import DeriveError
from core.derivers.track import build_track
from core.summarize import summarize
from reconciler import sweep
from reconciler.derivation import kind as activity_kind
from reconciler.models import KeptOutput, PreviewSample, Rollout, RolloutAction
from reconciler.rollouts import ops as rollout_ops
from reconciler.rollouts import preview_kind, previews, rollback
from reconciler.rollouts import report as rollout_report
from tests import factories
from tests.bumps import bump, longer_summary
from tests.conftest import NOW
from work import clock
from work import leases as work_leases
from work.models import Attempt

pytestmark = pytest.mark.django_db
LATER = NOW + timedelta(hours=1)
#: The summary's version after the test's deploy (`bump`).
NEW = derivers.VERSIONS["summary"] + 1
State = Rollout.State


def _ready(upload, sizes=(40, 60, 80, 100, 120)):
    with freeze_time(NOW):
        ids = [upload(factories.gpx(points=n)).activity.id for n in sizes]
        sweep.drain()
    assert set(Activity.objects.values_list("status", flat=True)) == {"ready"}
    return ids


def _seen_by_users(*, rebuilt=False):
    """What users see: every activity's JSON and every stored output's bytes. Once it was
    `rebuilt`, an activity's `processed_at` says when (a rollback restores outputs)."""
    return ([serialize.activity_dict(a) | ({"processed_at": None} if rebuilt else {})
             for a in Activity.objects.order_by("id")],
            sorted((d.activity_id, d.deriver, d.version, d.status, bytes(d.data or b""),
                    d.updated_at) for d in Derived.objects.all()))


def _moved_north(original: bytes, edits: dict | None = None):
    """A track deriver whose points lie 100 m further north: every position moves."""
    track = build_track(original, edits)
    return dataclasses.replace(track, columns={**track.columns, "lat": track.lat + 0.0009})


def _rollout(name="summary"):
    return Rollout.objects.get(deriver=name, version=derivers.VERSIONS[name])


def _act(action, by="ops"):
    return rollout_ops.act(_rollout().id, action, by=by, now=clock.now())


def _versions(name="summary"):
    return sorted(Derived.objects.filter(deriver=name).values_list("version", flat=True))


def test_a_version_bump_starts_a_preview_that_changes_nothing_users_see(upload, monkeypatch):
    ids = _ready(upload)
    before = _seen_by_users()
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER):
        sweep.drain()
        fresh = upload(factories.gpx(points=30)).activity
        sweep.drain()
    assert _rollout().state == State.PREVIEW
    assert set(PreviewSample.objects.values_list("activity_id", flat=True)) == set(ids)
    assert not PreviewSample.objects.filter(computed_at=None).exists()
    after = _seen_by_users()
    assert [a for a in after[0] if a["id"] != fresh.id] == before[0]
    assert [d for d in after[1] if d[0] != fresh.id] == before[1]
    # A new upload has only the new code to run: it gets the new version.
    assert Derived.objects.get(activity=fresh, deriver="summary").version == NEW


def test_a_reconcile_for_another_reason_leaves_the_held_output(upload, monkeypatch):
    """A worker that reconciles an activity in preview (a re-sync of the route) keeps its
    summary at the old version."""
    from reconciler.derivation import resync

    ids = _ready(upload, sizes=(50,))
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER):
        sweep.drain()
        resync.resync(Activity.objects.filter(id__in=ids), now=LATER, deriver="route")
        sweep.drain()
    assert _versions() == [NEW - 1]
    # The route ran again (to the bytes already stored: not written) and the summary not.
    last = Attempt.objects.filter(kind="activity").order_by("-id").first()
    assert last.detail["derivers"] == ["route"]
    assert Derived.objects.get(deriver="route").status == Derived.Status.READY


def test_previews_and_charts_promote_at_once(upload, monkeypatch):
    _ready(upload, sizes=(50, 60))
    charts = bump(monkeypatch, "charts")
    with freeze_time(LATER):
        sweep.drain()
    assert _rollout("charts").state == State.FINISHED
    assert _versions("charts") == [charts.version] * 2
    assert not KeptOutput.objects.exists()


def test_sample_is_stratified_by_sport_and_format(upload, monkeypatch, settings):
    settings.CAIRN_PREVIEW_SAMPLE = 3
    with freeze_time(NOW):
        for n in range(6):
            upload(factories.gpx(points=40 + n))
        for seed in (1, 2):
            upload(factories.fit(points=100, seed=seed))
        sweep.drain()
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER):
        sweep.drain()
    strata = sorted(PreviewSample.objects.values_list("stratum", flat=True))
    assert len(strata) == 3
    assert {s.split("/")[1] for s in strata} == {"gpx", "fit"}


def test_shares_split_in_proportion_and_keep_every_stratum():
    assert previews.shares({"a/gpx": 900, "b/fit": 90, "c/tcx": 10}, 200) == {
        "a/gpx": 178, "b/fit": 19, "c/tcx": 3}
    assert previews.shares({"a": 5, "b": 1}, 200) == {"a": 5, "b": 1}
    assert sum(previews.shares({str(k): 7 for k in range(300)}, 200).values()) == 200


def _direct_summary_changes(ids, new_derive):
    """Old and new summaries computed here, from the stored tracks, not by the report."""
    old, new = {}, {}
    for activity_id in ids:
        track = derivers.BY_NAME["track"].codec.loads(bytes(
            Derived.objects.get(activity_id=activity_id, deriver="track").data))
        old[activity_id] = summarize(track)
        new[activity_id] = new_derive(track)
    return old, new


def _nearest_rank_p95(values):
    ordered = sorted(values)
    return ordered[math.ceil(0.95 * len(ordered)) - 1]


def test_report_figures_match_outputs_computed_directly(upload, monkeypatch, settings):
    settings.CAIRN_ROLLOUT_CHANGE = 0.035

    def new_code(track):
        if len(track.lat) == 120:
            raise DeriveError("One hundred and twenty points is too many.", code="TooMany",
                              permanent=True)
        return longer_summary(track)

    ids = _ready(upload)
    bump(monkeypatch, "summary", new_code)
    with freeze_time(LATER):
        sweep.drain()
        report = rollout_report.build(_rollout(), now=LATER)
    failing = ids[-1]  # 120 points
    assert report["failures"] == [{"activity_id": failing, "deriver": "summary",
                                   "error_code": "TooMany", "failed_before": False,
                                   "error": "One hundred and twenty points is too many."}]
    compared = [i for i in ids if i != failing]
    old, new = _direct_summary_changes(compared, longer_summary)
    deltas = {i: new[i]["distance_m"] - old[i]["distance_m"] for i in compared}
    distance = report["summary"]["distance_m"]
    assert distance["compared"] == 4
    assert distance["median"] == pytest.approx(statistics.median(abs(d) for d in deltas.values()))
    assert distance["p95"] == pytest.approx(_nearest_rank_p95([abs(d) for d in deltas.values()]))
    assert distance["max"] == pytest.approx(max(abs(d) for d in deltas.values()))
    assert distance["max_activity"] == max(deltas, key=lambda i: abs(deltas[i]))
    beyond = [i for i in compared
              if abs(deltas[i]) > 0.035 * old[i]["distance_m"]]
    assert distance["changed"] == len(beyond) == 2  # 5 % per 100 points: 80 and 100 points
    moving_changed = sum(1 for i in compared if 10 > 0.035 * old[i]["moving_s"])
    assert moving_changed == 1  # the shortest: 10 s on 195 s
    assert report["summary"]["moving_s"] | {"max_activity": None} == {
        "compared": 4, "changed": moving_changed, "median": 10, "p95": 10, "max": 10,
        "max_activity": None}
    assert report["summary"]["ascent_m"]["changed"] == 0
    assert report["outputs"]["summary"]["differ"] == 4
    assert report["most_changed"][0] == {"activity_id": failing, "score": None,
                                         "what": "summary failed"}
    # Ranked by the largest relative change of any summary number.
    relative = {i: max(abs(deltas[i]) / old[i]["distance_m"], 10 / old[i]["moving_s"])
                for i in compared}
    assert [(m["activity_id"], m["score"]) for m in report["most_changed"][1:]] == [
        (i, pytest.approx(relative[i], abs=1e-6)) for i in sorted(compared,
                                                                  key=lambda i: -relative[i])]
    assert report["sample"] == {"size": 5, "computed": 5, "pending": 0,
                                "strata": {"cycling/gpx": 5}}


def test_operator_named_ids_join_the_sample(upload, monkeypatch, settings):
    settings.CAIRN_PREVIEW_SAMPLE = 1
    ids = _ready(upload)
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER):
        sweep.sweep_once()
        rollout_ops.sample(_rollout().id, [ids[-1], ids[-2]], by="ops", now=LATER)
        sweep.drain()
    samples = dict(PreviewSample.objects.values_list("activity_id", "stratum"))
    assert samples[ids[-1]] == samples[ids[-2]] == "named"
    assert len(samples) in (2, 3)
    assert not PreviewSample.objects.filter(computed_at=None).exists()


def test_preview_waits_while_fresh_uploads_fill_the_sweep(upload, monkeypatch, settings):
    settings.CAIRN_CLAIM_BATCH = 2
    settings.CAIRN_PREVIEW_PER_SWEEP = 2
    _ready(upload)
    bump(monkeypatch, "summary", longer_summary)

    def computed():
        return PreviewSample.objects.exclude(computed_at=None).count()

    with freeze_time(LATER):
        sweep.sweep_once()  # starts the preview, chooses its sample, computes two
        assert computed() == 2
        upload(), upload()
        sweep.sweep_once()  # a full batch of fresh uploads: no preview in this round
        assert computed() == 2
        sweep.sweep_once()  # nothing fresh: a bounded share of the preview
        assert computed() == 4


def test_promote_rebuilds_everything_and_finish_drops_the_kept_outputs(upload, monkeypatch):
    ids = _ready(upload)
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER):
        sweep.drain()
        _act("promote")
        sweep.drain()
    assert _versions() == [NEW] * 5
    assert _rollout().state == State.DONE
    assert KeptOutput.objects.filter(deriver="summary").count() == 5
    for activity_id in ids:
        track = derivers.BY_NAME["track"].codec.loads(bytes(
            Derived.objects.get(activity_id=activity_id, deriver="track").data))
        assert serialize_summary(activity_id) == longer_summary(track)
    with freeze_time(LATER):
        done = _act("finish")
    assert "5 kept previous outputs dropped" in done.message
    assert _rollout().state == State.FINISHED and not KeptOutput.objects.exists()


def serialize_summary(activity_id):
    return derivers.BY_NAME["summary"].codec.loads(bytes(
        Derived.objects.get(activity_id=activity_id, deriver="summary").data))


def test_pause_stops_the_rebuild_within_one_sweep(upload, monkeypatch, settings):
    settings.CAIRN_CLAIM_BATCH = 1
    _ready(upload)
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER):
        sweep.drain()
        _act("promote")
        sweep.sweep_once()  # flags all five, rebuilds one
        assert _versions().count(NEW) == 1
        _act("pause")
        sweep.sweep_once()
        assert _versions().count(NEW) == 1
        sweep.drain()  # the flagged ones are reconciled, their summaries held
        assert _versions().count(NEW) == 1
        _act("resume")
        sweep.drain()
    assert _versions() == [NEW] * 5
    assert _rollout().state == State.DONE


def test_throttle_holds_the_rate_per_minute_across_sweeps(upload, monkeypatch):
    _ready(upload, sizes=(40, 50, 60, 70, 80, 90, 100))
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER) as frozen:
        sweep.drain()
        rollout_ops.throttle(_rollout().id, 3, by="ops", now=LATER)
        _act("promote")
        rebuilt = []
        for _minute in range(3):
            for _ in range(6):  # many sweeps in one minute, by two sweepers
                sweep.sweep_once(owner="w-1")
                sweep.sweep_once(owner="w-2")
            rebuilt.append(_versions().count(NEW))
            frozen.tick(timedelta(seconds=61))
        report = rollout_report.build(_rollout(), now=clock.now())
    assert rebuilt == [3, 6, 7]
    assert report["progress"]["rebuilt"] == 7
    assert report["progress"]["rate_per_min"] == pytest.approx(7 / (3 * 61 / 60), abs=0.1)


def test_eta_comes_from_the_measured_rate(upload, monkeypatch):
    _ready(upload, sizes=(40, 50, 60, 70))
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER) as frozen:
        sweep.drain()
        rollout_ops.throttle(_rollout().id, 1, by="ops", now=LATER)
        _act("promote")
        sweep.drain()
        frozen.tick(timedelta(seconds=60))
        sweep.drain()
        progress = rollout_report.progress(_rollout(), now=clock.now())
    # Two rebuilt in a minute; two left: a minute to go.
    assert progress | {"kept_previous": 0} == {"old_outputs": 2, "rebuilt": 2,
                                               "rate_per_min": 2.0, "eta_s": 60,
                                               "kept_previous": 0}


def test_rollback_restores_the_previous_outputs_byte_identical(upload, monkeypatch):
    _ready(upload)
    before = _seen_by_users(rebuilt=True)
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER) as frozen:
        sweep.drain()
        rollout_ops.throttle(_rollout().id, 3, by="ops", now=LATER)
        _act("promote")
        sweep.drain()
        assert _versions().count(NEW) == 3
        _act("rollback")
        sweep.drain()
        frozen.tick(timedelta(minutes=5))
        sweep.drain()  # nothing rebuilds them while rolled back
    assert _rollout().state == State.ROLLED_BACK
    assert _seen_by_users(rebuilt=True) == before
    assert not KeptOutput.objects.exists()


def test_rollback_restores_every_output_a_track_rollout_rebuilt(upload, monkeypatch):
    ids = _ready(upload, sizes=(50, 70))
    before = _seen_by_users(rebuilt=True)
    track = bump(monkeypatch, "track", _moved_north)
    with freeze_time(LATER):
        sweep.drain()
        assert _rollout("track").state == State.PREVIEW
        rollout_ops.act(_rollout("track").id, "promote", by="ops", now=LATER)
        sweep.drain()
        assert _versions("track") == [track.version] * 2
        # Every output derives from the track, so a track rollout that moves its points
        # keeps each one's previous.
        assert KeptOutput.objects.count() == len(derivers.ALL) * len(ids)
        rollout_ops.act(_rollout("track").id, "rollback", by="ops", now=LATER)
        sweep.drain()
    assert _seen_by_users(rebuilt=True) == before


def test_two_actions_in_a_row_the_second_refused(upload, monkeypatch):
    _ready(upload, sizes=(50,))
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER):
        sweep.drain()
        _act("promote", by="ann")
        with pytest.raises(rollout_ops.Refused, match="Cannot promote a rollout that is running"):
            _act("promote", by="bob")
        with pytest.raises(rollout_ops.Refused, match="Cannot finish"):
            _act("finish", by="bob")
    actions = list(RolloutAction.objects.filter(rollout=_rollout()).order_by("id")
                   .values_list("action", "by", "from_state", "to_state"))
    assert actions == [("start", "deploy", "", "preview"),
                       ("promote", "ann", "preview", "running")]


@pytest.mark.postgres_only(reason="row locks and several concurrent connections")
@pytest.mark.django_db(transaction=True)
def test_two_operators_at_once_cannot_both_win(upload, monkeypatch):
    """Promote and roll back race from preview, many times over: each time exactly one
    wins, the other is refused, and the recorded actions replay to the stored state."""
    _ready(upload, sizes=(50,))
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER):
        sweep.drain()
    rollout_id = _rollout().id
    for _round in range(10):
        Rollout.objects.filter(id=rollout_id).update(state=State.PREVIEW)
        barrier = threading.Barrier(3)
        results = {}

        def operator(action, results=results, barrier=barrier):
            try:
                barrier.wait()
                rollout_ops.act(rollout_id, action, by=action, now=LATER)
                results[action] = "won"
            except rollout_ops.Refused:
                results[action] = "refused"
            finally:
                connection.close()

        threads = [threading.Thread(target=operator, args=(a,))
                   for a in ("promote", "rollback", "pause")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results["pause"] in ("won", "refused")
        assert sorted([results["promote"], results["rollback"]]) in (
            ["refused", "won"], ["won", "won"])
        last = RolloutAction.objects.filter(rollout_id=rollout_id).order_by("-id")
        state = Rollout.objects.get(id=rollout_id).state
        assert last[0].to_state == state
        # Every recorded move starts where the one before it ended.
        moves = list(last.filter(action__in=["promote", "rollback", "pause"])
                     .values_list("from_state", "to_state")[:3])[::-1]
        won = [m for m in moves][-sum(1 for r in results.values() if r == "won"):]
        for (_, end), (start, _) in zip(won, won[1:], strict=False):
            assert start == end
        if results["promote"] == results["rollback"] == "won":
            assert won[0] == ("preview", "running") and won[-1][1] in ("rolling_back",
                                                                       "paused")


def test_a_crashed_preview_computer_is_taken_over(upload, monkeypatch, settings):
    settings.CAIRN_PREVIEW_PER_SWEEP = 1
    _ready(upload)
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER) as frozen:
        sweep.sweep_once()  # the sample is chosen, one computed
        # ...and its computer dies holding two.
        taken = work_leases.claim(preview_kind.KIND, limit=2, now=LATER, owner="dies",
                                  trigger="sweep")
        assert len(taken) == 2
        sweep.drain()
        assert PreviewSample.objects.filter(computed_at=None).count() == 2
        frozen.tick(timedelta(seconds=settings.CAIRN_LEASE_S + 1))
        sweep.drain()
    assert not PreviewSample.objects.filter(computed_at=None).exists()
    # Each was an orphan taken over: its dead computer's attempt ends as worker_died, the
    # rescuer's as converged, and the count starts again.
    for lease in taken:
        outcomes = list(Attempt.objects.filter(kind="preview", row_id=lease.row_id)
                        .order_by("id").values_list("outcome", flat=True))
        assert outcomes == ["worker_died", "converged"]
        assert PreviewSample.objects.get(id=lease.row_id).attempts == 0


def test_a_crash_during_rollback_resumes(upload, monkeypatch, settings):
    settings.CAIRN_ROLLOUT_BATCH = 2
    _ready(upload)
    before = _seen_by_users(rebuilt=True)
    bump(monkeypatch, "summary", longer_summary)
    real = rollback._put_back
    calls = []

    def dies_on_the_second_batch(kept):
        calls.append(len(kept))
        if len(calls) == 2:
            raise SystemExit("killed")
        real(kept)

    with freeze_time(LATER):
        sweep.drain()
        _act("promote")
        sweep.drain()
        _act("rollback")
        monkeypatch.setattr(rollback, "_put_back", dies_on_the_second_batch)
        with pytest.raises(SystemExit):
            sweep.drain()
        assert _rollout().state == State.ROLLING_BACK
        assert KeptOutput.objects.count() == 3
        monkeypatch.setattr(rollback, "_put_back", real)
        sweep.drain()
    assert _rollout().state == State.ROLLED_BACK
    assert _seen_by_users(rebuilt=True) == before


def test_a_worker_killed_mid_backfill_is_taken_over(upload, monkeypatch, settings):
    _ready(upload)
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER) as frozen:
        sweep.drain()
        _act("promote")
        sweep.rollouts.advance(now=LATER, batch=1000)
        assert len(activity_kind.claim(limit=2, now=LATER, owner="dies")) == 2  # never settles
        sweep.drain()
        frozen.tick(timedelta(seconds=settings.CAIRN_LEASE_S + 1))
        sweep.drain()
    assert _versions() == [NEW] * 5
    assert _rollout().state == State.DONE


def test_a_newer_version_supersedes_an_unfinished_rollout(upload, monkeypatch):
    _ready(upload, sizes=(50, 60))
    bump(monkeypatch, "summary", longer_summary)
    with freeze_time(LATER):
        sweep.drain()
        _act("promote")
        sweep.drain()
    older = _rollout()
    assert older.kept.count() == 2
    bump(monkeypatch, "summary", longer_summary)  # a fix, the version after
    with freeze_time(LATER):
        sweep.drain()
    older.refresh_from_db()
    assert older.state == State.FINISHED and not older.kept.exists()
    assert _rollout().state == State.PREVIEW and _rollout().version == NEW + 1
    assert RolloutAction.objects.filter(rollout=older, action="superseded").exists()
