"""`import_activities PATH... --owner USER [--wait]`: ingest files as uploads are ingested."""

from __future__ import annotations

import json
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from activities import ingest, serialize
from activities.models import Activity
from reconciler import clock, leases, workers
from reconciler.models import Attempt
from reconciler.reconcile import reconcile_one

SETTLED = {Activity.Status.READY, Activity.Status.FAILED, Activity.Status.DEAD}


class Command(BaseCommand):
    help = "Import FIT/GPX files (optionally gzipped) for a user; one JSON line per file."

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
        results = [self.ingest_one(path, user) for path in paths]
        if wait:
            ids = [r["activity_id"] for r in results if r["activity_id"] and not r["error"]]
            if not self.wait_for(ids, timeout=timeout):
                self.emit(results)
                raise CommandError(f"Timed out after {timeout} s with work still pending.")
        self.emit(results)

    def ingest_one(self, path: str, user) -> dict:
        line = {"file": path, "upload_id": None, "activity_id": None, "status": "failed",
                "error": None, "duplicate_of": None}
        try:
            # An operator's import is not held to the per-user rate limit.
            accepted = ingest.accept(Path(path).read_bytes(), owner=user,
                                     original_name=Path(path).name, limited=False)
        except ingest.Rejected as error:
            line["error"] = str(error)
            return line
        line["upload_id"] = accepted.upload.id
        line["activity_id"] = accepted.activity.id
        if not accepted.created:
            line["duplicate_of"] = accepted.activity.id
        return line

    def wait_for(self, ids: list[int], *, timeout: float | None) -> bool:
        """Reconcile the activities here unless a worker holds them; True when all settled."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            pending = list(Activity.objects.filter(id__in=ids).exclude(status__in=SETTLED)
                           .values_list("id", flat=True))
            if not pending:
                return True
            progressed = False
            for activity_id in pending:
                claim = leases.claim_one(activity_id, now=clock.now(),
                                         owner=workers.identity())
                if claim is not None:
                    reconcile_one(claim, trigger=Attempt.Trigger.COMMAND)
                    progressed = True
            if deadline is not None and time.monotonic() > deadline:
                return False
            if not progressed:
                time.sleep(0.2)  # a worker holds them, or they wait on backoff

    def emit(self, results: list[dict]) -> None:
        activities = Activity.objects.in_bulk([r["activity_id"] for r in results
                                               if r["activity_id"]])
        for line in results:
            activity = activities.get(line["activity_id"])
            if activity is not None:
                line["status"] = serialize.UPLOAD_STATUS[activity.status]
                line["error"] = activity.error_message or None
            line["summary"] = serialize.activity_dict(activity) if activity else None
            self.stdout.write(json.dumps(line))
