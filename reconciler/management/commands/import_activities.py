"""`import_activities PATH... --owner USER [--wait]`: ingest files (or zip archives of
them) as uploads are ingested; one JSON line per file, or per archive member."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from activities import ingest, serialize, storage
from activities.expansion import kind as archive_kind
from activities.models import Activity, Archive, ArchiveMember
from reconciler.derivation import run
from reconciler.operations import workers
from work import clock, leases
from work.models import Attempt

SETTLED = {Activity.Status.READY, Activity.Status.FAILED, Activity.Status.DEAD}


class Command(BaseCommand):
    help = ("Import FIT/GPX/TCX files (optionally gzipped) or zip archives of them for a user; "
            "one JSON line per file or archive member.")

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument("--owner", required=True, help="Username that owns the activities.")
        parser.add_argument("--wait", action="store_true",
                            help="Block until every activity is reconciled (processing them "
                                 "here when no worker does).")
        parser.add_argument("--timeout", type=float, default=None,
                            help="With --wait: give up after this many seconds (exit 1).")

    def handle(self, *args, paths, owner, wait, timeout, **options):
        user = get_user_model().objects.filter(username=owner).first()
        if user is None:
            raise CommandError(f"No user {owner!r}.")
        missing = [p for p in paths if not Path(p).is_file()]
        if missing:
            raise CommandError(f"Not a file: {', '.join(missing)}")
        deadline = None if timeout is None else time.monotonic() + timeout
        lines = []
        for number, path in enumerate(paths):
            try:
                accepted, error = self.ingest_one(path, user)
            except storage.Unavailable as error:
                self.emit(lines)
                raise CommandError(
                    f"The store of originals is unavailable ({error}); {len(paths) - number} "
                    f"file(s) from {path} on were not imported. Run the same command again "
                    "once it is back: what was imported is recognised as a duplicate.") from None
            if wait and accepted is not None and accepted.upload.kind == "archive":
                self.expand(accepted.upload.archive.id, deadline=deadline)
                lines += [self.member_line(path, m)
                          for m in accepted.upload.archive.members.order_by("index", "within")]
            else:
                lines.append(self.file_line(path, accepted, error))
        if wait:
            ids = [line["activity_id"] for line in lines if line["activity_id"]]
            settled = self.wait_for(ids, deadline=deadline)
            self.emit(lines)
            if not settled:
                raise CommandError(f"Timed out after {timeout} s with work still pending.")
            return
        self.emit(lines)

    def ingest_one(self, path: str, user) -> tuple[ingest.Accepted | None, str | None]:
        # An operator's import is not held to the per-user rate limit.
        try:
            with open(path, "rb") as handle:
                return ingest.accept_file(handle, owner=user, original_name=Path(path).name,
                                          limited=False), None
        except ingest.Rejected as error:
            return None, str(error)

    def file_line(self, path: str, accepted: ingest.Accepted | None, error: str | None) -> dict:
        activity = accepted.activity if accepted else None
        return {"file": path, "upload_id": accepted.upload.id if accepted else None,
                "activity_id": activity.id if activity else None, "status": "failed",
                "error": error,
                "duplicate_of": activity.id if activity and not accepted.created else None}

    def member_line(self, path: str, member: ArchiveMember) -> dict:
        return {"file": f"{path}!{member.name}", "upload_id": member.archive.upload_id,
                "activity_id": member.activity_id, "status": member.status,
                "error": member.error_message or None,
                "duplicate_of": member.activity_id if member.status == "duplicate" else None}

    def expand(self, archive_id: int, *, deadline: float | None) -> None:
        """Expand the archive here, unless a worker is at it (then wait for it)."""
        while Archive.objects.filter(id=archive_id, needs_work=True).exists():
            lease = leases.claim_one(archive_kind.KIND, archive_id, now=clock.now(),
                                     owner=workers.identity(), trigger="command")
            if lease is not None:
                archive_kind.expand(lease)
            elif deadline is not None and time.monotonic() > deadline:
                return
            else:
                time.sleep(0.2)

    def wait_for(self, ids: list[int], *, deadline: float | None) -> bool:
        """Reconcile the activities here unless a worker holds them; True when all settled."""
        while True:
            # Settled, and not leased again meanwhile (a re-sync of a ready duplicate).
            pending = list(Activity.objects.filter(id__in=ids)
                           .exclude(status__in=SETTLED, lease_token__isnull=True)
                           .values_list("id", flat=True))
            if not pending:
                return True
            progressed = False
            for activity_id in pending:
                if run.run_now(activity_id, Attempt.Trigger.COMMAND) not in (
                        run.OUTDATED, run.NOTHING_TO_DO):
                    progressed = True
            if deadline is not None and time.monotonic() > deadline:
                return False
            if not progressed:
                time.sleep(0.2)  # a worker holds them, or they wait on backoff

    def emit(self, lines: list[dict]) -> None:
        activities = Activity.objects.in_bulk([line["activity_id"] for line in lines
                                               if line["activity_id"]])
        for line in lines:
            activity = activities.get(line["activity_id"])
            if activity is not None and line["status"] not in ("skipped",):
                line["status"] = serialize.UPLOAD_STATUS[activity.state]
                line["error"] = line["error"] or activity.error_message or None
            line["summary"] = serialize.activity_dict(activity) if activity else None
            self.stdout.write(json.dumps(line))
