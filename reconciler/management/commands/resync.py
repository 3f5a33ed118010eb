"""`resync`: force activities to be reconciled again (after a deploy, or to replay dead ones)."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from activities.models import Activity
from core import derivers
from duplicates import resync as duplicates_resync
from reconciler.derivation import resync
from records import resync as records_resync
from segments import resync as segments_resync
from training import resync as training_resync
from work import clock


class Command(BaseCommand):
    help = "Force a re-sync of the selected activities (all derivers, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Every activity.")
        parser.add_argument("--owner", help="Activities of this username.")
        parser.add_argument("--ids", nargs="+", type=int, help="These activity ids.")
        parser.add_argument("--dead", action="store_true",
                            help="Dead activities (transient errors exhausted): replay them.")
        parser.add_argument("--deriver", choices=sorted([*derivers.BY_NAME,
                                                         records_resync.DERIVER,
                                                         training_resync.DERIVER,
                                                         duplicates_resync.DERIVER,
                                                         segments_resync.DERIVER]),
                            help="Rebuild only this deriver (and what depends on it); "
                                 "`records`: the selected users' records, totals and heatmap; "
                                 "`training`: their loads and fitness series; "
                                 "`duplicates`: their probable duplicates; "
                                 "`segments`: the selected activities matched against "
                                 "their segments again.")

    def handle(self, *args, all, owner, ids, dead, deriver, **options):
        if not (all or owner or ids or dead):
            raise CommandError("Say what to re-sync: --all, --owner USER, --ids ... or --dead.")
        selected = Activity.objects.all()
        if owner:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"No user {owner!r}.")
            selected = selected.filter(owner=user)
        if ids:
            selected = selected.filter(id__in=ids)
        books = {records_resync.DERIVER: records_resync,
                 training_resync.DERIVER: training_resync,
                 duplicates_resync.DERIVER: duplicates_resync}
        if deriver == segments_resync.DERIVER:
            chosen = segments_resync.selected(selected, every=all, dead=dead)
            count = segments_resync.resync(chosen, now=clock.now())
            self.stdout.write(json.dumps({"resynced": count, "deriver": deriver}))
            return
        if deriver in books:
            users = books[deriver].users_of(selected, every=all, dead=dead)
            count = books[deriver].resync(users, now=clock.now())
            self.stdout.write(json.dumps({"resynced": count, "deriver": deriver}))
            return
        if dead:
            selected = selected.filter(status=Activity.Status.DEAD)
        # A handful picked by hand goes before any backfill; bulk re-syncs queue behind.
        priority = Activity.Priority.FRESH if ids else Activity.Priority.BACKFILL
        count = resync.resync(selected, now=clock.now(), deriver=deriver,
                              revive_dead=dead or bool(ids), priority=priority)
        self.stdout.write(json.dumps({"resynced": count, "deriver": deriver}))
