"""The models and the migrations agree: no change is left without its migration."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_no_missing_migrations():
    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=StringIO())
    except SystemExit:
        pytest.fail(f"models changed without a migration:\n{out.getvalue()}")


@pytest.mark.django_db(transaction=True)
def test_the_list_filters_sport_column_is_filled_from_stored_summaries():
    """Migration 0012 copies each stored summary's sport into Activity.sport, which the
    list's `sport` filter reads (later rounds write it as they settle)."""
    import json

    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("activities", "0011_upload_window_login_failure")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    user = old.get_model("auth", "User").objects.create(username="old")
    upload = old.get_model("activities", "Upload").objects.create(
        owner_id=user.id, sha256="a" * 64, size_bytes=1)
    ids = []
    for n, summary in enumerate([{"sport": "running"}, {"sport": None}, None]):
        activity = old.get_model("activities", "Activity").objects.create(
            owner_id=user.id, upload_id=upload.id, format="fit", sha256=f"{n}" * 64,
            file_name="x", size_bytes=1, due_at="2026-01-15T12:00:00Z")
        ids.append(activity.id)
        old.get_model("activities", "Derived").objects.create(
            activity_id=activity.id, deriver="summary", version=1, status="ready",
            data=json.dumps(summary).encode() if summary else None,
            updated_at="2026-01-15T12:00:00Z")
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    from activities.models import Activity

    assert [Activity.objects.get(id=i).sport for i in ids] == ["running", "", ""]


@pytest.mark.django_db(transaction=True)
def test_activity_attempts_move_into_the_one_attempt_log():
    """reconciler 0007 copies every activity attempt into work.Attempt (kind "activity",
    the derivers run in `detail`), drops the old table, and gives preview samples the
    kernel's lease fields: a computed sample needs no work, one still to compute does."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    before = [node for node in executor.loader.graph.leaf_nodes() if node[0] != "reconciler"]
    before.append(("reconciler", "0006_rollout_control"))
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    try:
        user = old.get_model("auth", "User").objects.create(username="old")
        upload = old.get_model("activities", "Upload").objects.create(
            owner_id=user.id, sha256="a" * 64, size_bytes=1, file_name="x")
        activity = old.get_model("activities", "Activity").objects.create(
            owner_id=user.id, upload_id=upload.id, format="fit", sha256="b" * 64,
            file_name="x", size_bytes=1, due_at="2026-01-15T12:00:00Z")
        when = "2026-01-15T12:00:00Z"
        old.get_model("reconciler", "Attempt").objects.create(
            activity_id=activity.id, trigger="sweep", worker="h:1", lease_token="t" * 32,
            versions={"track": 3}, started_at=when, held_until=when, ended_at=when,
            outcome="failed", derivers_run=["track", "summary"], error_code="CorruptFile",
            error_message="Broken.")
        rollout = old.get_model("reconciler", "Rollout").objects.create(
            deriver="summary", version=9, state="preview", started_at=when)
        Sample = old.get_model("reconciler", "PreviewSample")
        computed = Sample.objects.create(rollout_id=rollout.id, activity_id=activity.id,
                                         stratum="named", computed_at=when)
        later = old.get_model("reconciler", "Rollout").objects.create(
            deriver="track", version=9, state="preview", started_at=when)
        pending = Sample.objects.create(rollout_id=later.id, activity_id=activity.id,
                                        stratum="run/fit")
    finally:  # forward again whatever happened: the next tests need the schema
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

    from reconciler.models import PreviewSample
    from work.models import Attempt

    [attempt] = Attempt.objects.all()
    assert (attempt.kind, attempt.row_id, attempt.trigger, attempt.worker, attempt.versions,
            attempt.outcome, attempt.detail, attempt.error_code, attempt.error_message) == (
        "activity", activity.id, "sweep", "h:1", {"track": 3}, "failed",
        {"derivers": ["track", "summary"]}, "CorruptFile", "Broken.")
    assert "reconciler_attempt" not in connection.introspection.table_names()
    sample = PreviewSample.objects.get(id=computed.id)
    assert (sample.needs_work, sample.lease_token, sample.attempts) == (False, None, 0)
    assert PreviewSample.objects.get(id=pending.id).needs_work
