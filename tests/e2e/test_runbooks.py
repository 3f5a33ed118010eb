"""The runbooks' commands: every one parses with the real command's parser, and each
page's fix, run against the situation it describes, fixes it."""

import json
import re
import shlex
from datetime import timedelta
from io import BytesIO, StringIO
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.utils import timezone

from activities.models import Activity
from reconciler.derivation import kind as activity_kind
from reconciler.models import Worker
from reconciler.operations import workers

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
_FENCE = re.compile(r"```sh\n(.*?)```", re.S)


def _commands() -> list[tuple[str, list[str]]]:
    found = []
    for page in sorted(RUNBOOKS.glob("*.md")):
        for block in _FENCE.findall(page.read_text()):
            for line in block.splitlines():
                line = line.split("#", 1)[0].strip()
                if line.startswith("python manage.py "):
                    found.append((page.name, shlex.split(line)[2:]))
    return found


def test_runbooks_exist_for_each_symptom_and_carry_commands():
    pages = {p.name for p in RUNBOOKS.glob("*.md")} - {"README.md"}
    assert {"uploads-stuck-queued.md", "workers-running-old-code.md",
            "expired-leases-piling-up.md", "poison-files-and-dead-letters.md",
            "backfill-after-a-version-bump.md", "postgresql-restart-or-failover.md",
            "adding-worker-hosts.md"} <= pages
    index = (RUNBOOKS / "README.md").read_text()
    assert all(page in index for page in pages)
    assert {page for page, _ in _commands()} == pages


@pytest.mark.parametrize(("page", "argv"), _commands(),
                         ids=[f"{p}:{' '.join(a)}" for p, a in _commands()])
def test_every_runbook_command_parses(page, argv):
    name, *args = argv
    assert name in get_commands(), f"{page}: no command {name!r}"
    command = load_command_class(get_commands()[name], name)
    command.create_parser("manage.py", name).parse_args(args)  # raises on a bad option


def run(*argv) -> str:
    out = StringIO()
    call_command(*argv, stdout=out, stderr=StringIO())
    return out.getvalue()


def drift() -> dict:
    return json.loads(run("drift", "--json"))


@pytest.mark.django_db
def test_uploads_stuck_queued_are_processed_by_reconcile_once(upload):
    for _ in range(3):
        upload()  # the broker is down: nobody was nudged
    assert drift()["pending"] == 3
    run("reconcile", "--once")
    assert drift()["pending"] == 0


@pytest.mark.django_db
def test_dead_letters_are_replayed(upload):
    ids = [upload().activity.id for _ in range(2)]
    Activity.objects.filter(id__in=ids).update(status="dead", needs_work=False, attempts=5)
    assert drift()["dead"] == 2
    run("resync", "--dead")
    run("reconcile", "--once")
    assert drift()["dead"] == 0
    assert set(Activity.objects.values_list("status", flat=True)) == {"ready"}


@pytest.mark.django_db
def test_resync_ids_retries_a_permanent_failure(upload):
    from tests import factories

    activity = upload(factories.gpx()[:200]).activity
    run("reconcile", "--once")
    assert drift()["failed"] == 1
    run("resync", "--ids", str(activity.id))
    run("reconcile", "--once")
    assert drift()["failed"] == 1  # still corrupt: failed again, readably, not lost
    assert Activity.objects.get(id=activity.id).error_code == "CorruptFile"


@pytest.mark.django_db
def test_expired_leases_are_taken_over(upload):
    from work import clock

    activity = upload().activity
    activity_kind.claim_one(activity.id, now=clock.now(), owner="dead-host:1")
    past = timezone.now() - timedelta(seconds=1)
    Activity.objects.filter(id=activity.id).update(lease_expires_at=past, due_at=past)
    assert drift()["stale_leases"] == 1
    run("reconcile", "--once")
    assert drift()["stale_leases"] == 0
    assert Activity.objects.get(id=activity.id).status == "ready"


@pytest.mark.django_db
def test_drift_shows_a_worker_on_old_code_and_a_new_worker_host():
    now = timezone.now()
    newer = {name: version + 1 for name, version in workers.code_versions().items()}
    Worker.objects.create(id="new-host:9", host="new-host", pid=9, versions=newer,
                          started_at=now, last_seen=now)
    run("reconcile", "--once")  # this process: a worker on older code
    seen = {w["id"]: w for w in drift()["workers"]}
    assert seen["new-host:9"]["live"] and not seen["new-host:9"]["outdated"]
    assert seen[workers.identity()]["outdated"]


@pytest.mark.django_db
def test_backfill_of_one_deriver_by_hand(upload):
    for _ in range(3):
        upload()
    run("reconcile", "--once")
    run("resync", "--all", "--deriver", "summary")
    assert drift()["forced"] == 3
    run("reconcile", "--once")
    assert drift()["forced"] == 0 and drift()["pending"] == 0


@pytest.mark.django_db
def test_a_version_bump_previewed_promoted_and_finished_with_the_commands(upload, monkeypatch):
    from tests.bumps import bump, longer_summary

    for _ in range(3):
        upload()
    run("reconcile", "--once")
    bump(monkeypatch, "summary", longer_summary)
    run("reconcile", "--once")
    report = json.loads(run("rollout", "show", "--json"))
    assert report["rollout"]["state"] == "preview" and report["sample"]["computed"] == 3
    assert drift()["old_version"]["summary"] == 3
    run("rollout", "promote", "--by", "ops")
    run("reconcile", "--once")
    assert drift()["old_version"]["summary"] == 0
    assert "now finished; 3 kept previous outputs dropped" in run("rollout", "finish")


@pytest.mark.django_db
def test_uploads_stuck_uploading_show_in_drift_and_reconcile_once_ingests_them(user):
    from tests import factories
    from transfers import sessions, store
    from transfers.models import UploadSession

    data = factories.gpx()
    session = sessions.open_session(owner=user, via=UploadSession.Via.TUS, filename="a.gpx",
                                    size=len(data))
    store.save(store.chunk_name(session.key, offset=0, length=len(data)), BytesIO(data))
    sessions.nudge(session.id)  # the last byte is in; no sweep runs
    assert drift()["sessions"]["arrived"] == 1
    run("reconcile", "--once")
    assert drift()["sessions"]["arrived"] == 0
    assert UploadSession.objects.get().status == UploadSession.Status.INGESTED
