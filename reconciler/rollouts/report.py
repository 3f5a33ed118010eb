"""What a rollout changes: its preview's shadow outputs compared with the stored ones, per
activity and in aggregate, plus its progress and ETA (`rollout show`, the staff page)."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import datetime
from typing import Any

from django.conf import settings

from activities.models import Derived
from activities.serialize import iso
from core import derivers
from reconciler.models import PreviewSample, Rollout, RolloutAction, ShadowOutput
from reconciler.rollouts import state as rollout_state

#: Summary fields compared as numbers (the change is new − old, in the field's unit).
NUMBERS = ("distance_m", "elapsed_s", "moving_s", "ascent_m", "descent_m", "avg_speed_mps",
           "max_speed_mps", "avg_hr_bpm", "max_hr_bpm", "avg_power_w", "max_power_w",
           "avg_cadence", "point_count", "sessions", "parts")
#: Summary fields compared as values (counted when they differ).
VALUES = ("title", "sport", "sub_sport", "start_time", "distance_source", "bbox")
MOST_CHANGED = 20


def build(rollout: Rollout, *, now: datetime) -> dict:
    """The whole report, as `rollout show --json` prints it."""
    pairs = compare_sample(rollout)
    return {
        "rollout": describe(rollout),
        "progress": progress(rollout, now=now),
        "sample": _sample_counts(rollout),
        "summary": summary_changes(pairs) if "summary" in rollout_state.closure(
            rollout.deriver) else None,
        "outputs": output_changes(pairs),
        "failures": failures(pairs),
        "most_changed": most_changed(pairs),
        "actions": [{"action": a.action, "by": a.by, "at": iso(a.at), "from": a.from_state,
                     "to": a.to_state, "detail": a.detail}
                    for a in RolloutAction.objects.filter(rollout=rollout).order_by("at", "id")],
    }


def describe(rollout: Rollout) -> dict:
    return {"id": rollout.id, "deriver": rollout.deriver, "version": rollout.version,
            "state": rollout.state, "throttle_per_min": rollout.throttle_per_min,
            "keep_previous": rollout.keep_previous, "cursor": rollout.cursor,
            "flagged": rollout.flagged, "started_at": iso(rollout.started_at),
            "promoted_at": iso(rollout.promoted_at), "finished_at": iso(rollout.finished_at)}


def progress(rollout: Rollout, *, now: datetime) -> dict:
    """Old outputs left, rebuilt since the promote, the measured rate and the ETA."""
    old = Derived.objects.filter(deriver=rollout.deriver, version__lt=rollout.version).count()
    rebuilt = rate = eta = None
    if rollout.promoted_at is not None and rollout.old_at_promote is not None:
        rebuilt = max(rollout.old_at_promote - old, 0)
        minutes = (now - rollout.promoted_at).total_seconds() / 60
        rate = round(rebuilt / minutes, 1) if minutes > 0 else None
        if rate:
            eta = round(old / rate * 60) if rollout.state == Rollout.State.RUNNING else None
    return {"old_outputs": old, "rebuilt": rebuilt, "rate_per_min": rate, "eta_s": eta,
            "kept_previous": rollout.kept.count()}


def _sample_counts(rollout: Rollout) -> dict:
    rows = list(PreviewSample.objects.filter(rollout=rollout).values_list(
        "stratum", "computed_at"))
    return {"size": len(rows), "computed": sum(1 for _, c in rows if c is not None),
            "pending": sum(1 for _, c in rows if c is None),
            "strata": dict(sorted(Counter(s for s, _ in rows).items()))}


class Pair:
    """One sample activity's outputs, old (stored) and new (shadow), decoded."""

    def __init__(self, activity_id: int) -> None:
        self.activity_id = activity_id
        self.old: dict[str, Any] = {}
        self.new: dict[str, Any] = {}
        self.old_bytes: dict[str, bytes] = {}
        self.new_bytes: dict[str, bytes] = {}
        self.failed: dict[str, tuple[str, str]] = {}


def compare_sample(rollout: Rollout, activity_ids: list[int] | None = None) -> list[Pair]:
    """Every computed sample's old and new outputs (of the changed derivers)."""
    names = rollout_state.closure(rollout.deriver)
    samples = PreviewSample.objects.filter(rollout=rollout, computed_at__isnull=False)
    if activity_ids is not None:
        samples = samples.filter(activity_id__in=activity_ids)
    by_sample = dict(samples.values_list("id", "activity_id"))
    pairs = {i: Pair(i) for i in sorted(by_sample.values())}
    for shadow in ShadowOutput.objects.filter(sample_id__in=by_sample, deriver__in=names):
        pair = pairs[by_sample[shadow.sample_id]]
        if shadow.status == Derived.Status.FAILED:
            pair.failed[shadow.deriver] = (shadow.error_code, shadow.error_message)
        else:
            pair.new_bytes[shadow.deriver] = bytes(shadow.data)
            pair.new[shadow.deriver] = derivers.BY_NAME[shadow.deriver].codec.loads(
                bytes(shadow.data))
    for row in Derived.objects.filter(activity_id__in=pairs, deriver__in=names,
                                      data__isnull=False):
        pair = pairs[row.activity_id]
        pair.old_bytes[row.deriver] = bytes(row.data)
        pair.old[row.deriver] = derivers.BY_NAME[row.deriver].codec.loads(bytes(row.data))
    return list(pairs.values())


def changed(old: Any, new: Any) -> bool:
    """Beyond the threshold: a number that moved more than CAIRN_ROLLOUT_CHANGE of its old
    value (any move from 0), or a value that appeared, vanished or differs."""
    if isinstance(old, int | float) and isinstance(new, int | float):
        return abs(new - old) > settings.CAIRN_ROLLOUT_CHANGE * abs(old) if old else new != old
    return old != new


def stats(deltas: list[float]) -> dict:
    """Median, 95th percentile (nearest rank) and maximum of the absolute changes."""
    if not deltas:
        return {"median": None, "p95": None, "max": None}
    ordered = sorted(abs(d) for d in deltas)
    rank = max(math.ceil(0.95 * len(ordered)) - 1, 0)
    return {"median": round(statistics.median(ordered), 6), "p95": round(ordered[rank], 6),
            "max": round(ordered[-1], 6)}


def summary_changes(pairs: list[Pair]) -> dict:
    """Per summary field: how many activities were compared, how many changed beyond the
    threshold, and the absolute change's median, p95 and max (with the activity)."""
    both = [(p, p.old["summary"], p.new["summary"]) for p in pairs
            if "summary" in p.old and "summary" in p.new]
    fields: dict[str, dict] = {}
    for field in NUMBERS + VALUES:
        olds_news = [(p, old.get(field), new.get(field)) for p, old, new in both]
        deltas = [(new - old, p.activity_id) for p, old, new in olds_news
                  if isinstance(old, int | float) and isinstance(new, int | float)]
        entry = {"compared": len(olds_news),
                 "changed": sum(1 for _, old, new in olds_news if changed(old, new))}
        if field in NUMBERS:
            entry |= stats([d for d, _ in deltas])
            top = max(deltas, key=lambda d: abs(d[0]), default=None)
            entry["max_activity"] = top[1] if top and top[0] else None
        fields[field] = entry
    return fields


def output_changes(pairs: list[Pair]) -> dict:
    """Per changed output: how many differ at all, and the change in size (bytes) and in
    points (where the output has points)."""
    names = sorted({n for p in pairs for n in p.new_bytes}, key=_order)
    result = {}
    for name in names:
        both = [p for p in pairs if name in p.old_bytes and name in p.new_bytes]
        sizes = [len(p.new_bytes[name]) - len(p.old_bytes[name]) for p in both]
        points = [points_in(name, p.new[name]) - points_in(name, p.old[name]) for p in both
                  if points_in(name, p.new[name]) is not None
                  and points_in(name, p.old[name]) is not None]
        result[name] = {"compared": len(both),
                        "differ": sum(1 for p in both if p.new_bytes[name] != p.old_bytes[name]),
                        "size_bytes": stats(sizes), "points": stats(points) if points else None}
    return result


def points_in(name: str, value: Any) -> int | None:
    """How many points an output holds, where that means something."""
    if name == "track":
        return len(value.lat)
    if name == "route":
        return len(value.get("points") or [])
    if name == "summary":
        return value.get("point_count")
    if name == "playback" and isinstance(value, dict):
        series = value.get("t") or value.get("time_s") or value.get("lat")
        return len(series) if isinstance(series, list) else None
    return None


def failures(pairs: list[Pair]) -> list[dict]:
    return [{"activity_id": p.activity_id, "deriver": name, "error_code": code,
             "error": message, "failed_before": name not in p.old}
            for p in pairs for name, (code, message) in p.failed.items()]


def score(pair: Pair) -> tuple[float, str]:
    """How much an activity changed: a failure first, then the largest relative change of
    a summary number, else of an output's size. Returns (score, what)."""
    if pair.failed:
        return math.inf, f"{next(iter(pair.failed))} failed"
    best = (0.0, "")
    old, new = pair.old.get("summary"), pair.new.get("summary")
    if isinstance(old, dict) and isinstance(new, dict):
        for field in NUMBERS:
            a, b = old.get(field), new.get(field)
            if isinstance(a, int | float) and isinstance(b, int | float) and a != b:
                best = max(best, (abs(b - a) / abs(a) if a else math.inf, field))
            elif (a is None) != (b is None):
                best = max(best, (math.inf, field))
    for name, data in pair.new_bytes.items():
        before = pair.old_bytes.get(name)
        if before is not None and before != data and name != "summary":
            best = max(best, (abs(len(data) - len(before)) / max(len(before), 1), name))
    return best


def most_changed(pairs: list[Pair], limit: int = MOST_CHANGED) -> list[dict]:
    scored = [(score(p), p.activity_id) for p in pairs]
    scored = [s for s in scored if s[0][0] > 0 or s[0][1]]
    scored.sort(key=lambda s: (-s[0][0], s[1]))
    return [{"activity_id": i, "score": None if math.isinf(sc) else round(sc, 6),
             "what": what} for (sc, what), i in scored[:limit]]


def _order(name: str) -> int:
    return [d.name for d in derivers.ALL].index(name)
