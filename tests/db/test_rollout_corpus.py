"""A real rollout on the corpus: a new summary (stops below 1 m/s instead of 0.5 m/s
are not moving) is previewed, its report checked against summaries computed here,
promoted, and rolled back to the very bytes it replaced."""

from __future__ import annotations

import json
import math
import statistics
from datetime import timedelta
from pathlib import Path

import pytest
from freezegun import freeze_time

from activities import ingest
from activities.models import Activity, Derived
from core import derivers, motion
from core.summarize import summarize
from reconciler import sweep
from reconciler.models import PreviewSample, Rollout
from reconciler.rollouts import ops as rollout_ops
from reconciler.rollouts import report as rollout_report
from tests.bumps import bump
from tests.conftest import NOW
from tests.corpus import require_corpus, rows

pytestmark = [pytest.mark.corpus, pytest.mark.django_db]
LATER = NOW + timedelta(hours=1)


def stop_at_1_mps(track):
    """The summary with a stricter idea of stopped: what a deploy might bring."""
    before = motion.STOP_SPEED_MPS
    motion.STOP_SPEED_MPS = 1.0
    try:
        return summarize(track)
    finally:
        motion.STOP_SPEED_MPS = before


def _outputs():
    return sorted((d.activity_id, d.deriver, d.version, d.status, bytes(d.data or b""))
                  for d in Derived.objects.all())


def test_a_summary_rollout_on_the_corpus(user, monkeypatch):
    folder = require_corpus()
    with freeze_time(NOW):
        for row in rows():
            try:
                ingest.accept(Path(folder, row["file"]).read_bytes(), owner=user,
                              original_name=row["file"])
            except ingest.Rejected:
                continue
        sweep.drain()
    before = _outputs()
    bump(monkeypatch, "summary", stop_at_1_mps)
    with freeze_time(LATER):
        sweep.drain()
        rollout = Rollout.objects.get(deriver="summary", version=derivers.VERSIONS["summary"])
        report = rollout_report.build(rollout, now=LATER)
    assert rollout.state == Rollout.State.PREVIEW
    assert _outputs() == before  # the preview changed nothing users see

    sampled = list(PreviewSample.objects.values_list("activity_id", flat=True))
    old, new = {}, {}
    for activity_id in sampled:
        stored = Derived.objects.filter(activity_id=activity_id, deriver="track").first()
        if stored is None or stored.data is None:
            continue
        track = derivers.BY_NAME["track"].codec.loads(bytes(stored.data))
        old[activity_id] = summarize(track)
        new[activity_id] = stop_at_1_mps(track)
    moving = sorted(abs(new[i]["moving_s"] - old[i]["moving_s"]) for i in old
                    if new[i]["moving_s"] is not None and old[i]["moving_s"] is not None)
    figures = report["summary"]["moving_s"]
    assert figures["compared"] == len(old)
    assert figures["median"] == pytest.approx(statistics.median(moving))
    assert figures["p95"] == pytest.approx(moving[math.ceil(0.95 * len(moving)) - 1])
    assert figures["max"] == pytest.approx(moving[-1])
    print("\nrollout headline:", json.dumps({
        "sample": report["sample"], "failures": len(report["failures"]),
        "fields": {k: v for k, v in report["summary"].items() if v["changed"]},
        "most_changed": report["most_changed"][:5]}, indent=1))

    with freeze_time(LATER):
        rollout_ops.act(rollout.id, "promote", by="ops", now=LATER)
        sweep.drain()
        assert not Derived.objects.filter(deriver="summary", version__lt=rollout.version,
                                          activity__status=Activity.Status.READY).exists()
        for activity_id, summary in new.items():
            stored = Derived.objects.get(activity_id=activity_id, deriver="summary")
            assert json.loads(bytes(stored.data)) == summary
        rollout_ops.act(rollout.id, "rollback", by="ops", now=LATER)
        sweep.drain()
    assert _outputs() == before
