"""The management commands, as operators and scripts call them."""

import gzip
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from activities import tokens
from activities.models import Activity
from core import derivers
from tests import factories

pytestmark = [pytest.mark.django_db, pytest.mark.storage]


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_import_wait_prints_one_json_line_per_file(user, tmp_path):
    good = tmp_path / "good.gpx"
    good.write_bytes(factories.gpx(points=50))
    zipped = tmp_path / "zipped.gpx.gz"
    zipped.write_bytes(gzip.compress(factories.gpx(points=40)))
    corrupt = tmp_path / "corrupt.gpx"
    corrupt.write_bytes(factories.gpx()[:250])
    text = tmp_path / "notes.txt"
    text.write_text("not an activity")
    again = tmp_path / "again.gpx"
    again.write_bytes(good.read_bytes())
    paths = [str(p) for p in (good, zipped, corrupt, text, again)]

    lines = [json.loads(line) for line in run("import_activities", *paths, "--owner", "alice",
                                              "--wait").splitlines()]

    assert [line["file"] for line in lines] == paths
    for line in lines:
        assert set(line) == {"file", "upload_id", "activity_id", "status", "error",
                             "duplicate_of", "summary"}
    assert lines[0]["status"] == "ready"
    assert lines[0]["summary"]["point_count"] == 50
    assert lines[0]["summary"]["id"] == lines[0]["activity_id"]
    assert lines[1]["status"] == "ready"
    assert lines[2]["status"] == "failed"
    assert lines[2]["error"]
    assert lines[3]["status"] == "failed"
    assert lines[3]["activity_id"] is None
    assert "not FIT, GPX or TCX" in lines[3]["error"]
    assert lines[4]["duplicate_of"] == lines[0]["activity_id"]
    assert Activity.objects.count() == 3


def test_import_refuses_unknown_owner_and_missing_paths(user, tmp_path):
    with pytest.raises(CommandError, match="No user"):
        run("import_activities", str(tmp_path), "--owner", "nobody")
    with pytest.raises(CommandError, match="Not a file"):
        run("import_activities", str(tmp_path / "absent.gpx"), "--owner", "alice")


def test_reconcile_once_drains_and_drift_json_reports_zero(user, upload):
    for _ in range(3):
        upload()
    assert json.loads(run("reconcile", "--once")) == {"claimed": 3}
    drift = json.loads(run("drift", "--json"))
    assert drift["total"] == 3
    assert drift["pending"] == 0
    assert drift["old_version"] == dict.fromkeys(derivers.VERSIONS, 0)
    assert run("drift").count("\n") == len(drift)


def test_resync_ids_and_deriver(user, upload):
    ids = [upload().activity.id for _ in range(2)]
    run("reconcile", "--once")
    out = json.loads(run("resync", "--ids", str(ids[0]), "--deriver", "summary"))
    assert out == {"resynced": 1, "deriver": "summary"}
    assert list(Activity.objects.filter(needs_work=True).values_list("id", flat=True)) == [ids[0]]
    assert json.loads(run("drift", "--json"))["forced"] == 1
    with pytest.raises(CommandError, match="Say what"):
        run("resync")


def test_create_api_token_prints_a_working_token_alone(db):
    token = run("create_api_token", "carol", "--create-user").strip()
    assert tokens.authenticate(token).username == "carol"
    with pytest.raises(CommandError, match="No user"):
        run("create_api_token", "dave")
