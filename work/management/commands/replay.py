"""`replay`: dead rows of any registered kind of work are due again, with a fresh count."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from work import clock, kinds
from work.models import Leased
from work.replay import replay


class Command(BaseCommand):
    help = "Replay dead rows of one kind of work: these ids, or every dead one."

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True,
                            help="The kind's name (drift --json's \"work\" lists them).")
        parser.add_argument("--ids", nargs="+", type=int, help="These rows (those dead).")
        parser.add_argument("--all-dead", action="store_true", help="Every dead row.")

    def handle(self, *args, kind, ids, all_dead, **options):
        if kind not in kinds.ALL:
            raise CommandError(f"No kind {kind!r}; known: {', '.join(sorted(kinds.ALL))}.")
        if not (ids or all_dead):
            raise CommandError("Say what to replay: --ids ... or --all-dead.")
        spec = kinds.get(kind)
        selected = spec.model.objects.all()
        if ids:
            selected = selected.filter(id__in=ids)
        # A handful picked by hand goes before any backfill; a bulk replay queues behind.
        priority = Leased.Priority.FRESH if ids else Leased.Priority.BACKFILL
        n = replay(spec, selected, now=clock.now(), priority=priority)
        self.stdout.write(json.dumps({"kind": kind, "replayed": n}))
