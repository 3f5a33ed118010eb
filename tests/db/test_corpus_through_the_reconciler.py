"""Every corpus file, uploaded as a user would, ends ready or failed with a reason, and
the API shows single-session FIT activities with the device's own totals."""

from __future__ import annotations

from pathlib import Path

import pytest

from activities import ingest, serialize
from activities.models import Activity
from reconciler import sweep
from tests.corpus import require_corpus, rows
from work.models import Attempt

pytestmark = [pytest.mark.corpus, pytest.mark.django_db]


def test_every_corpus_file_settles_ready_or_failed_with_a_reason(user):
    folder = require_corpus()
    accepted: dict[str, Activity] = {}
    refused: dict[str, str] = {}
    for row in rows():
        try:
            result = ingest.accept(Path(folder, row["file"]).read_bytes(), owner=user,
                                   original_name=Path(row["file"]).name)
        except ingest.Rejected as error:
            refused[row["file"]] = str(error)
            continue
        accepted[row["file"]] = result.activity

    sweep.drain()

    unsettled, unexplained = [], []
    for name, activity in accepted.items():
        activity.refresh_from_db()
        if activity.status not in (Activity.Status.READY, Activity.Status.FAILED):
            unsettled.append((name, activity.status, activity.error_message))
        if activity.status == Activity.Status.FAILED and len(activity.error_message) < 15:
            unexplained.append((name, activity.error_message))
    assert unsettled == []
    assert unexplained == []
    assert all(len(message) > 15 for message in refused.values())
    # Failures are permanent: one attempt each, nothing left to retry.
    assert not Activity.objects.filter(needs_work=True).exists()
    assert set(Attempt.objects.values_list("outcome", flat=True)) <= {"converged", "failed"}

    by_folder = {folder_name: [n for n in accepted if n.startswith(folder_name + "/")]
                 for folder_name in ("fit", "gpx", "invalid")}
    ready = {n for n, a in accepted.items() if a.status == Activity.Status.READY}
    # Activity files in fit/ and gpx/ are read; what fails there is not an activity
    # (settings, courses, routes, waypoints) and says so.
    for name in by_folder["fit"] + by_folder["gpx"]:
        if name not in ready:
            assert accepted[name].error_code in {"NotAnActivity", "NoPoints"}, name
    # Files that neither reference parser reads fail, readably.
    unreadable = {r["file"] for r in rows("invalid")
                  if r["fitparse_ok"] == "False" and r["fitdecode_lenient_ok"] == "False"
                  or r["gpx_parse_ok"] == "False"}
    assert unreadable
    for name in unreadable:
        assert name in refused or accepted[name].status == Activity.Status.FAILED, name

    # What the API serves for single-session FIT activities is what the watch said.
    wanted = [r for r in rows("fit") if r["n_sessions"] == "1"
              and r["fit_file_type"] == "activity" and r["total_distance_m"]
              and r["total_elapsed_time_s"]]
    assert len(wanted) >= 40
    misses = [r["file"] for r in wanted
              if not _matches_device(serialize.activity_dict(accepted[r["file"]]), r)]
    assert len(misses) <= 0.05 * len(wanted), misses


def _matches_device(body: dict, row: dict[str, str]) -> bool:
    distance, elapsed = float(row["total_distance_m"]), float(row["total_elapsed_time_s"])
    return (body["distance_m"] is not None and body["elapsed_s"] is not None
            and abs(body["distance_m"] - distance) <= max(0.02 * distance, 1.0)
            and abs(body["elapsed_s"] - elapsed) <= 2.0)
