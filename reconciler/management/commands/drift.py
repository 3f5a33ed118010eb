"""`drift`: how far the stored state is from the wanted state."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from reconciler import clock, drift


class Command(BaseCommand):
    help = "Count activities that are missing, stale, old-version, leased, failed or dead."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json",
                            help="One JSON object on stdout.")

    def handle(self, *args, as_json: bool, **options):
        counts = drift.count(now=clock.now())
        if as_json:
            self.stdout.write(json.dumps(counts))
            return
        for key, value in counts.items():
            if isinstance(value, dict):
                value = ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
            elif isinstance(value, list):
                value = "; ".join(f"{r['deriver']} v{r['version']} at id {r['cursor']}"
                                  for r in value) or "none"
            self.stdout.write(f"{key:>22}  {value}")
