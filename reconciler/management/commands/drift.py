"""`drift`: how far the stored state is from the wanted state."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from reconciler.operations import drift
from work import clock


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
            self.stdout.write(f"{key:>22}  {_describe(key, value)}")


def _describe(key: str, value) -> str:
    if key == "old_version":
        return ", ".join(f"{name} {n}" for name, n in value.items())
    if key == "rollouts":
        return "; ".join(f"{r['deriver']} v{r['version']} {r['state']} at id {r['cursor']}"
                         for r in value) or "none"
    if key == "work":
        return "; ".join(f"{kind}: " + ", ".join(f"{state} {n}" for state, n in found.items()
                                                  if n is not None)
                         for kind, found in value.items()) or "none"
    if key in ("records", "training"):
        return ", ".join(f"{name} {n}" for name, n in value.items())
    if key == "workers":
        return "; ".join(
            f"{w['id']} {'live' if w['live'] else 'gone'}"
            f"{' OUTDATED' if w['outdated'] else ''} (last seen {w['last_seen']})"
            for w in value) or "none"
    return str(value)
