"""Migration 0013: names the old code made from file names are cleared (the derived title
shows instead); names people gave are kept."""

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("activities", "0013_archive_member_missing")]
NOW = datetime(2026, 1, 1, tzinfo=UTC)
AFTER = [("activities", "0014_file_names_are_not_names")]


@pytest.mark.django_db(transaction=True)
def test_file_stems_are_cleared_and_given_names_kept():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    User = apps.get_model("auth", "User")
    Upload = apps.get_model("activities", "Upload")
    Activity = apps.get_model("activities", "Activity")
    Archive = apps.get_model("activities", "Archive")
    ArchiveMember = apps.get_model("activities", "ArchiveMember")
    owner = User.objects.create(username="old")

    def activity(name: str, upload, n: int):
        return Activity.objects.create(
            owner=owner, upload=upload, name=name, format="gpx", sha256=f"{n:064x}",
            file_name=f"originals/{n}.gpx", size_bytes=1, due_at=NOW)

    def upload(original: str, n: int, kind: str = "file"):
        return Upload.objects.create(owner=owner, sha256=f"{n:064x}", size_bytes=1,
                                     original_name=original, kind=kind)

    stem = activity("tormoder__garmin", upload("tormoder__garmin.fit", 1), 1)
    typed = activity("Sunday hills", upload("tormoder__garmin.fit", 2), 2)
    gzipped = activity("ride", upload("C:\\tracks\\ride.gpx.gz", 3), 3)
    archived = upload("export.zip", 4, kind="archive")
    archive = Archive.objects.create(upload=archived, members_total=2, due_at=NOW)
    member = activity("1", archived, 4)
    named_member = activity("Ride to work", archived, 5)
    for index, (name, row) in enumerate([("activities/1.gpx", member),
                                         ("activities/2.gpx", named_member)]):
        ArchiveMember.objects.create(archive=archive, index=index, name=name, size_bytes=1,
                                     status="imported", activity=row)

    executor.loader.build_graph()
    executor.migrate(AFTER)
    # Then every app to its latest migration again (going back to 0013 unapplied what
    # depends on later activities migrations: uploads sessions, records, webhooks), so the
    # tests after this one find the schema they expect.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from activities.models import Activity as Current
    names = dict(Current.objects.values_list("id", "name"))
    assert names == {stem.id: "", typed.id: "Sunday hills", gzipped.id: "",
                     member.id: "", named_member.id: "Ride to work"}
