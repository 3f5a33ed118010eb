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
