"""`rollout`: see what a new deriver version changes, then promote, pause, resume,
throttle, roll back or finish its rollout."""

from __future__ import annotations

import getpass
import json

from django.core.management.base import BaseCommand, CommandError

from reconciler.models import Rollout
from reconciler.rollouts import ops as rollout_ops
from reconciler.rollouts import report as rollout_report
from work import clock


class Command(BaseCommand):
    help = ("Operate a version rollout: show [--json], promote, pause, resume, "
            "throttle N, rollback, finish, sample --ids ...")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["show", "sample", "throttle", *rollout_ops.MOVES])
        parser.add_argument("per_min", nargs="?", type=int,
                            help="throttle: activities per minute across the fleet (0: none)")
        parser.add_argument("--deriver", help="which rollout, when several are in progress")
        parser.add_argument("--id", type=int, dest="rollout_id", help="a rollout by its id")
        parser.add_argument("--ids", nargs="+", type=int, default=[],
                            help="sample: activity ids to add to the preview")
        parser.add_argument("--by", default=None,
                            help="who acts (recorded; default: the login name)")
        parser.add_argument("--json", action="store_true", dest="as_json",
                            help="show: one JSON object on stdout")

    def handle(self, *args, action: str, per_min: int | None, deriver: str | None,
               rollout_id: int | None, ids: list[int], by: str | None, as_json: bool,
               **options):
        now = clock.now()
        try:
            rollout = (Rollout.objects.filter(id=rollout_id).first() if rollout_id
                       else rollout_ops.current(deriver))
            if rollout is None:
                raise rollout_ops.Refused(f"No rollout {rollout_id}.")
            who = by or getpass.getuser()
            if action == "show":
                report = rollout_report.build(rollout, now=now)
                self.stdout.write(json.dumps(report) if as_json else render(report))
                return
            if action == "throttle":
                if per_min is None:
                    raise rollout_ops.Refused("Say how many: `rollout throttle N` (0: none).")
                done = rollout_ops.throttle(rollout.id, per_min, by=who, now=now)
            elif action == "sample":
                if not ids:
                    raise rollout_ops.Refused("Name the activities: `rollout sample --ids 1 2`.")
                done = rollout_ops.sample(rollout.id, ids, by=who, now=now)
            else:
                done = rollout_ops.act(rollout.id, action, by=who, now=now)
        except rollout_ops.Refused as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(done.message)


def render(report: dict) -> str:
    """The report for a person: the headline, then a line per field and output."""
    r, p, s = report["rollout"], report["progress"], report["sample"]
    lines = [f"{r['deriver']} v{r['version']}: {r['state'].replace('_', ' ')}"
             f" (throttle {r['throttle_per_min'] or 'none'})",
             f"sample: {s['computed']} of {s['size']} computed, strata "
             + (", ".join(f"{k} {n}" for k, n in s["strata"].items()) or "none"),
             f"old outputs left: {p['old_outputs']}, rebuilt: {p['rebuilt']}, rate: "
             f"{p['rate_per_min']}/min, ETA: {p['eta_s']} s, kept: {p['kept_previous']}"]
    if report["summary"]:
        lines.append(f"{'summary field':<16} {'changed':>9} {'median':>10} {'p95':>10} "
                     f"{'max':>10}  activity")
        for field, e in report["summary"].items():
            lines.append(f"{field:<16} {e['changed']:>4}/{e['compared']:<4} "
                         f"{_n(e.get('median')):>10} {_n(e.get('p95')):>10} "
                         f"{_n(e.get('max')):>10}  {e.get('max_activity') or ''}")
    for name, e in report["outputs"].items():
        size, points = e["size_bytes"], e["points"] or {}
        lines.append(f"{name}: {e['differ']}/{e['compared']} differ; size change median "
                     f"{_n(size['median'])} max {_n(size['max'])} B; points change max "
                     f"{_n(points.get('max'))}")
    lines.append(f"failures under the new code: {len(report['failures'])}")
    lines += [f"  activity {f['activity_id']} {f['deriver']}: {f['error_code']}: {f['error']}"
              for f in report["failures"]]
    lines.append("most changed: " + (", ".join(
        f"{m['activity_id']} ({m['what']})" for m in report["most_changed"]) or "none"))
    lines += [f"{a['at']} {a['action']} by {a['by']} {a['from']}→{a['to']} {a['detail']}"
              for a in report["actions"]]
    return "\n".join(lines)


def _n(value) -> str:
    return "-" if value is None else f"{value:g}"
