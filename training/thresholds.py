"""A user's thresholds: what a POST may set (validated, with a message for people), the
history as core.training.thresholds reads it, and the values in force on a day, the
profile's maximum heart rate standing in where no dated one is in force."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

from activities.models import Profile
from core.training import thresholds as core_thresholds
from training import flags
from training.models import Threshold

#: The API's kinds, as core.training.load names them.
CORE_NAME = {"ftp": "ftp_w", "lthr": "lthr", "hr_rest": "hr_rest", "hr_max": "hr_max"}
#: Plausible values by kind, inclusive: a typing slip (2500 W, 19 bpm) is refused.
RANGES = {"ftp": (20, 2000), "lthr": (60, 230), "hr_rest": (25, 120), "hr_max": (100, 240)}
EARLIEST = date(1970, 1, 1)


class Invalid(ValueError):
    """A POST body that is no threshold; its message says what to send."""


@dataclass(frozen=True)
class Wanted:
    kind: str
    value: int
    effective: date


def parse(body: object) -> Wanted:
    """{"kind", "value", "from"} -> Wanted, or Invalid."""
    if not isinstance(body, dict):
        raise Invalid('Send a JSON object: {"kind", "value", "from"}.')
    unknown = sorted(set(body) - {"kind", "value", "from"})
    if unknown:
        raise Invalid(f"Unknown field(s): {', '.join(unknown)}.")
    kind = body.get("kind")
    if not isinstance(kind, str) or kind not in RANGES:
        raise Invalid(f"kind is one of {', '.join(RANGES)}.")
    value = body.get("value")
    low, high = RANGES[kind]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"value of {kind} is a whole number from {low} to {high}.")
    raw = body.get("from")
    try:
        effective = date.fromisoformat(raw) if isinstance(raw, str) and len(raw) == 10 else None
    except ValueError:
        effective = None
    if effective is None or effective < EARLIEST:
        raise Invalid('from is the first day it is in force, as YYYY-MM-DD (1970 or later).')
    return Wanted(kind=kind, value=value, effective=effective)


def put(user_id: int, wanted: Wanted, *, now: datetime) -> tuple[Threshold, bool]:
    """Store the value (replacing one of its kind on the same day) and owe the user's
    book a rebuild, in one transaction; (the row, whether it is new)."""
    with transaction.atomic():
        row, created = Threshold.objects.update_or_create(
            user_id=user_id, kind=wanted.kind, effective=wanted.effective,
            defaults={"value": wanted.value}, create_defaults={
                "value": wanted.value, "created_at": now})
        flags.mark([user_id], now=now)
    return row, created


def history(user_id: int) -> list[core_thresholds.Threshold]:
    """The user's thresholds in core.training's names, oldest first."""
    return [core_thresholds.Threshold(CORE_NAME[kind], float(value), effective)
            for kind, value, effective in
            Threshold.objects.filter(user_id=user_id).order_by("effective", "id")
            .values_list("kind", "value", "effective")]


def max_hr_on(user_id: int, day: date) -> int | None:
    """The dated maximum heart rate in force on `day` (activities.maxhr's source: the
    activity page's zones)."""
    found = core_thresholds.value_on(history(user_id), "hr_max", day)
    return round(found) if found is not None else None


def profile_max_hr(user_id: int) -> float | None:
    found = Profile.objects.filter(user_id=user_id).values_list("max_hr", flat=True).first()
    return float(found) if found else None


def in_force(entries: list[core_thresholds.Threshold], day: date,
             fallback_max_hr: float | None) -> dict[str, float]:
    """The values in force on `day` (load.activity_load's keywords); the profile's
    maximum heart rate where no dated one is."""
    found = core_thresholds.values_on(entries, day)
    if "hr_max" not in found and fallback_max_hr is not None:
        found["hr_max"] = fallback_max_hr
    return found


def as_dict(row: Threshold) -> dict:
    return {"id": row.id, "kind": row.kind, "value": row.value,
            "from": row.effective.isoformat()}
