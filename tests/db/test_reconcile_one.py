"""reconcile_one: converge, do nothing when converged, classify failures."""

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from activities.models import Activity, Derived
from core import derivers
from core.derivers import DeriveError
from reconciler import sweep, tasks
from reconciler.derivation import inline, resync
from reconciler.derivation import kind as activity_kind
from reconciler.derivation.reconcile import reconcile_one
from reconciler.operations import drift
from tests import factories
from tests.conftest import NOW
from work.models import Attempt

pytestmark = [pytest.mark.django_db, pytest.mark.storage]


def _claim(activity_id):
    return activity_kind.claim_one(activity_id, now=NOW, owner="w-1")


def test_new_activity_converges_with_track_and_summary(upload):
    with freeze_time(NOW):
        activity = upload(factories.gpx(points=120, step_s=5)).activity
        outcome = reconcile_one(_claim(activity.id), trigger=Attempt.Trigger.SWEEP)
    assert outcome == Attempt.Outcome.CONVERGED
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    assert not activity.needs_work
    assert activity.lease_token is None
    rows = {r.deriver: r for r in activity.derived.all()}
    assert {n: r.version for n, r in rows.items()} == derivers.VERSIONS
    summary = json.loads(bytes(rows["summary"].data))
    assert summary["point_count"] == 120
    # 119 steps of 25 m east
    assert summary["distance_m"] == pytest.approx(119 * 25, rel=0.01)
    assert summary["elapsed_s"] == pytest.approx(119 * 5)


def _snapshot():
    return (list(Activity.objects.order_by("id").values()),
            list(Derived.objects.order_by("id").values()),
            list(Attempt.objects.order_by("id").values()))


def test_second_reconcile_of_a_ready_activity_performs_no_writes(upload):
    with freeze_time(NOW):
        activity = upload().activity
        tasks.nudge(activity.id)
        sweep.drain()  # also settles the version rollouts' bookkeeping
        before = _snapshot()
        with CaptureQueriesContext(connection) as queries:
            assert tasks.nudge(activity.id) == "nothing to do"
        # The sweep's claim is one conditional UPDATE; it must match nothing.
        assert sweep.sweep_once(owner="w-2").claimed == 0
    assert {q["sql"].split()[0].upper() for q in queries.captured_queries} == {"SELECT"}
    assert _snapshot() == before
    assert Attempt.objects.filter(kind="activity", row_id=activity.id).count() == 1


def _finely_recorded_gpx() -> bytes:
    """A GPX finer than a stored track keeps (nanodegrees, millimetres, tenths of a
    millisecond): a deriver fed the freshly decoded track would differ from a rebuild."""
    points = "".join(
        f'<trkpt lat="{46 + i * 1.23456789e-5:.9f}" lon="{14.5 + i * 7.6543211e-5:.9f}">'
        f"<ele>{300 + 3.3333 * (i % 17):.4f}</ele>"
        f"<time>2026-01-10T07:{i // 60:02d}:{i % 60:02d}.{(i * 1234) % 10000:04d}Z</time>"
        "</trkpt>" for i in range(300))
    return ('<?xml version="1.0"?><gpx version="1.1" creator="cairn-tests" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><type>cycling</type><trkseg>'
            f"{points}</trkseg></trk></gpx>").encode()


@pytest.mark.django_db(transaction=True)  # the inline fallback reconciles in a thread
def test_every_path_and_a_rebuild_produce_identical_derived_rows(upload, user, tmp_path):
    """Nudge, sweep, inline fallback, `import_activities --wait`, and a forced re-sync
    of one deriver or of all: the same bytes for every output."""
    data = _finely_recorded_gpx()
    owners = {name: type(user).objects.create_user(name)
              for name in ("nudge", "sweep", "inline", "command")}
    by_path = {}
    by_path["nudge"] = upload(data, owner=owners["nudge"]).activity
    tasks.nudge(by_path["nudge"].id)
    by_path["sweep"] = upload(data, owner=owners["sweep"]).activity
    assert sweep.sweep_once(owner="sweeper").claimed == 1
    by_path["inline"] = upload(data, owner=owners["inline"]).activity
    assert inline.process(by_path["inline"].id, budget_s=60) == Attempt.Outcome.CONVERGED
    (tmp_path / "ride.gpx").write_bytes(data)
    [line] = call_command_lines("import_activities", str(tmp_path / "ride.gpx"),
                                "--owner", "command", "--wait")
    by_path["command"] = Activity.objects.get(id=line["activity_id"])

    def rows(activity):
        return {r.deriver: (r.version, r.status, bytes(r.data))
                for r in Derived.objects.filter(activity=activity)}

    first = rows(by_path["nudge"])
    assert len(first) == len(derivers.ALL)
    assert {path: rows(a) == first for path, a in by_path.items()} == dict.fromkeys(by_path, True)
    for deriver in ("summary", None):  # one deriver, then all of them
        resync.resync(Activity.objects.filter(id=by_path["nudge"].id), now=timezone.now(),
                      deriver=deriver)
        assert sweep.drain() == 1
        assert rows(by_path["nudge"]) == first, deriver


def call_command_lines(*args) -> list[dict]:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_corrupt_file_fails_at_once_with_a_readable_error_and_is_not_retried(upload):
    corrupt = factories.gpx()[:300]  # cut off mid-element: the XML does not parse
    with freeze_time(NOW):
        activity = upload(corrupt).activity
        assert sweep.sweep_once().claimed == 1
        activity.refresh_from_db()
        assert activity.status == Activity.Status.FAILED
        assert not activity.needs_work
        assert activity.error_code == "CorruptFile"
        assert len(activity.error_message) > 20
        # Nothing is due any more, however long we wait.
        assert sweep.sweep_once(now=NOW + timedelta(days=30)).claimed == 0
    track = Derived.objects.get(activity=activity, deriver="track")
    assert track.status == Derived.Status.FAILED
    assert not Derived.objects.filter(activity=activity, deriver="summary").exists()


def test_transient_error_is_retried_with_backoff_then_dead(upload, settings, monkeypatch):
    settings.CAIRN_MAX_ATTEMPTS = 3
    summary = derivers.BY_NAME["summary"]

    def flaky(track):
        raise DeriveError("The disk went away.", code="StorageDown", permanent=False)

    monkeypatch.setitem(summary.__dict__, "derive", flaky)
    with freeze_time(NOW) as clock:
        activity = upload().activity
        outcomes = []
        for _ in range(3):
            [claim] = activity_kind.claim(limit=1, now=timezone.now(), owner="w-1") or [None]
            outcomes.append(reconcile_one(claim, trigger=Attempt.Trigger.SWEEP))
            activity.refresh_from_db()
            if activity.needs_work:
                assert activity.due_at > timezone.now()  # backing off
                clock.move_to(activity.due_at)
    assert outcomes == [Attempt.Outcome.RETRYING, Attempt.Outcome.RETRYING,
                        Attempt.Outcome.DEAD]
    assert activity.status == Activity.Status.DEAD
    assert activity.error_code == "StorageDown"
    # The track survived the summary's failures: only the summary was tried again.
    track = Derived.objects.get(activity=activity, deriver="track")
    assert track.status == Derived.Status.READY
    runs = list(Attempt.objects.filter(kind="activity", row_id=activity.id).order_by("id")
                .values_list("detail__derivers", flat=True))
    everything = [d.name for d in derivers.ALL]
    assert runs == [everything, ["summary"], ["summary"]]
    assert drift.count(now=timezone.now())["dead"] == 1
    # Replayed once the cause is fixed: `resync --dead` does exactly this.
    monkeypatch.undo()
    with freeze_time(NOW + timedelta(days=1)):
        assert resync.resync(Activity.objects.filter(status="dead"), now=timezone.now(),
                             revive_dead=True) == 1
        sweep.drain()
    activity.refresh_from_db()
    assert activity.status == Activity.Status.READY
    assert activity.attempts == 0


def test_unexpected_exception_in_a_deriver_is_transient(upload, monkeypatch):
    summary = derivers.BY_NAME["summary"]
    monkeypatch.setitem(summary.__dict__, "derive", lambda track: 1 / 0)
    with freeze_time(NOW):
        activity = upload().activity
        outcome = reconcile_one(_claim(activity.id), trigger=Attempt.Trigger.NUDGE)
    activity.refresh_from_db()
    assert outcome == Attempt.Outcome.RETRYING
    assert activity.status == Activity.Status.QUEUED
    assert activity.needs_work
    assert activity.error_code == "ZeroDivisionError"
    assert "retried" in activity.error_message
