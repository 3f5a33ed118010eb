"""An owner's gear as the API sets and shows it: the body of a POST or PATCH, checked
(with a message for people), and each gear with its totals from the training book."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from activities.edits import SPORTS
from activities.models import Gear
from training import flags

NAME_MAX = 100
RETIRE_MAX_KM = 1_000_000
#: What a POST may send; a PATCH the same but `kind`.
FIELDS = ("name", "kind", "sports", "retired", "retire_at_km")


class Invalid(ValueError):
    """A body that is no gear; its message says what to send."""


def parse(body: object, *, new: bool) -> dict:
    """The fields of a POST (`new`: name and kind required) or a PATCH, checked."""
    allowed = FIELDS if new else tuple(f for f in FIELDS if f != "kind")
    if not isinstance(body, dict) or not (body or new):
        raise Invalid(f"Send a JSON object with {', '.join(allowed)}.")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise Invalid(f"Unknown or fixed field(s): {', '.join(unknown)}.")
    checked = {}
    if new or "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name.strip()) <= NAME_MAX \
                or not name.isprintable():
            raise Invalid(f"name is 1 to {NAME_MAX} printable characters.")
        checked["name"] = name.strip()
    if new:
        if body.get("kind") not in Gear.Kind.values:
            raise Invalid(f"kind is one of {', '.join(Gear.Kind.values)}.")
        checked["kind"] = body["kind"]
    if "sports" in body:
        sports = body["sports"]
        if not isinstance(sports, list) or not all(
                isinstance(s, str) and s in SPORTS for s in sports):
            raise Invalid("sports is a list of sports, as an activity's sport is named "
                          "(running, cycling, …).")
        checked["sports"] = sorted(set(sports))
    if "retired" in body:
        if not isinstance(body["retired"], bool):
            raise Invalid("retired is true or false.")
        checked["retired"] = body["retired"]
    if "retire_at_km" in body:
        km = body["retire_at_km"]
        if km is not None and (isinstance(km, bool) or not isinstance(km, int)
                               or not 1 <= km <= RETIRE_MAX_KM):
            raise Invalid(f"retire_at_km is a whole number from 1 to {RETIRE_MAX_KM}, or "
                          "null.")
        checked["retire_at_km"] = km
    return checked


def delete(gear: Gear, *, now: datetime) -> None:
    """Remove the gear (its activities keep none) and owe the owner's book a rebuild, in
    one transaction."""
    with transaction.atomic():
        gear.delete()
        flags.mark([gear.owner_id], now=now)


def as_dict(gear: Gear, totals: dict[str, list[int]]) -> dict:
    """The gear with its totals as the training book last summed them."""
    count, distance_dm, moving_ds = totals.get(str(gear.id), (0, 0, 0))
    return {"id": gear.id, "name": gear.name, "kind": gear.kind, "sports": gear.sports,
            "retired": gear.retired, "retire_at_km": gear.retire_at_km,
            "distance_m": distance_dm / 10, "moving_s": moving_ds / 10, "count": count}
