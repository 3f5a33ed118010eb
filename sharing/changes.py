"""An owner's privacy changes: a zone added or deleted, trims set. Each bumps the owner's
privacy version and flags every shared activity's public copy for a rebuild, fresh first,
in the change's own transaction: once the change commits, no copy cut with the old
settings is served (sharing.served), and none can be stored (sharing.build)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.db import transaction
from django.db.models import F

from activities.models import Derived, Visibility
from core import privacy
from core import track as tracks
from sharing import flags
from sharing.models import Privacy, PublicCopy, Zone


class Invalid(ValueError):
    """A change refused; the message says what to send instead."""


def _number(body: dict, key: str, low: float, high: float) -> float:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise Invalid(f"{key} is a number from {low:g} to {high:g}.")
    if not low <= value <= high:
        raise Invalid(f"{key} is from {low:g} to {high:g}, not {value:g}.")
    return float(value)


def parse_zone(body) -> privacy.Zone:
    if not isinstance(body, dict) or set(body) != {"lat", "lon", "radius_m"}:
        raise Invalid('Send {"lat": <degrees>, "lon": <degrees>, "radius_m": '
                      f'{privacy.RADIUS_MIN_M}..{privacy.RADIUS_MAX_M}}}.')
    return privacy.Zone(_number(body, "lat", -90, 90), _number(body, "lon", -180, 180),
                        round(_number(body, "radius_m", privacy.RADIUS_MIN_M,
                                      privacy.RADIUS_MAX_M)))


def parse_trims(body, *, default: bool = False) -> tuple[int, int]:
    """The trims to set (None: unchanged); with `default`, `default_visibility` may come
    too (set_default takes it)."""
    allowed = {"trim_start_m", "trim_end_m"} | ({"default_visibility"} if default else set())
    if not isinstance(body, dict) or not body or set(body) - allowed:
        raise Invalid(f'Send {{"trim_start_m": 0..{privacy.TRIM_MAX_M}, "trim_end_m": '
                      f'0..{privacy.TRIM_MAX_M}}} (either or both)'
                      + (', or "default_visibility".' if default else "."))
    if "default_visibility" in body and body["default_visibility"] not in Visibility.values:
        raise Invalid("default_visibility is one of " + ", ".join(Visibility.values) + ".")
    return tuple(round(_number(body, key, 0, privacy.TRIM_MAX_M)) if key in body else None
                 for key in ("trim_start_m", "trim_end_m"))


def set_default(user_id: int, visibility: str) -> None:
    """The visibility new activities take: no version bump (nothing shared changes)."""
    settings_of(user_id)
    Privacy.objects.filter(user_id=user_id).update(default_visibility=visibility)


def settings_of(user_id: int) -> Privacy:
    return Privacy.objects.get_or_create(user_id=user_id)[0]


def _locked(user_id: int) -> Privacy:
    settings_of(user_id)
    return Privacy.objects.select_for_update().get(user_id=user_id)


def _changed(user_id: int, *, now: datetime) -> int:
    """The version bumped and every shared copy flagged: inside the change's transaction."""
    Privacy.objects.filter(user_id=user_id).update(version=F("version") + 1)
    return flags.owner_changed(user_id, now=now)


def add_zone(user_id: int, zone: privacy.Zone, *, now: datetime) -> Zone:
    with transaction.atomic():
        _locked(user_id)
        row = Zone.objects.create(user_id=user_id, lat=zone.lat, lon=zone.lon,
                                  radius_m=zone.radius_m, created_at=now)
        _changed(user_id, now=now)
    return row


def delete_zone(user_id: int, zone_id: int, *, now: datetime) -> bool:
    with transaction.atomic():
        _locked(user_id)
        deleted, _ = Zone.objects.filter(user_id=user_id, id=zone_id).delete()
        if deleted:
            _changed(user_id, now=now)
    return bool(deleted)


def set_trims(user_id: int, start: int | None, end: int | None, *, now: datetime) -> Privacy:
    with transaction.atomic():
        row = _locked(user_id)
        row.trim_start_m = row.trim_start_m if start is None else start
        row.trim_end_m = row.trim_end_m if end is None else end
        row.save(update_fields=["trim_start_m", "trim_end_m"])
        _changed(user_id, now=now)
    row.refresh_from_db()
    return row


def zone_dict(zone: Zone) -> dict:
    return {"id": zone.id, "lat": zone.lat, "lon": zone.lon, "radius_m": zone.radius_m}


@dataclass(frozen=True)
class Effect:
    """What a set of rules hides of an owner's shared activities."""

    activities: int  # shared activities with at least one point hidden
    points: int  # points hidden in all
    shared: int  # shared activities looked at


def effect(user_id: int, rules: privacy.Rules, *, limit: int = 500) -> Effect:
    """What `rules` would hide of the owner's (first `limit`) shared activities: the
    account page shows it before a change is saved."""
    ids = list(flags.shared(user_id).order_by("-id").values_list("id", flat=True)[:limit])
    touched = points = 0
    for blob in (Derived.objects.filter(activity_id__in=ids, deriver="track",
                                        status=Derived.Status.READY, data__isnull=False)
                 .values_list("data", flat=True).iterator(chunk_size=50)):
        hidden = int(np.count_nonzero(privacy.hidden(tracks.decode(bytes(blob)), rules)))
        touched += hidden > 0
        points += hidden
    return Effect(activities=touched, points=points, shared=len(ids))


def rules_with(user_id: int, *, extra: privacy.Zone | None = None,
               trims: tuple[int | None, int | None] = (None, None)) -> privacy.Rules:
    """The owner's rules as they would be with one more zone, or other trims."""
    row = settings_of(user_id)
    zones = tuple(privacy.Zone(lat, lon, r) for lat, lon, r in Zone.objects.filter(
        user_id=user_id).values_list("lat", "lon", "radius_m"))
    start, end = trims
    return privacy.Rules(zones=zones + ((extra,) if extra else ()),
                         trim_start_m=row.trim_start_m if start is None else start,
                         trim_end_m=row.trim_end_m if end is None else end)


def pending(user_id: int) -> int:
    """The owner's public copies still being rebuilt."""
    return PublicCopy.objects.filter(owner_id=user_id, needs_work=True).count()
