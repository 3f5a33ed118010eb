"""An owner's edits of an activity (PATCH): name, sport, description and gear, checked.

They live in fields no rebuild writes: `name` and `description` (set at upload, then only
here), `user_sport`, which the serializers show instead of the summary's sport, and
`gear` (one of the owner's, or none)."""

from __future__ import annotations

import json
import secrets

from django.db import transaction

from activities import changes as announced
from activities.models import Activity, Gear, Visibility
from work import clock

#: Sports an owner may choose: the FIT profile's names, as summaries report them.
SPORTS = frozenset({
    "generic", "running", "cycling", "transition", "fitness_equipment", "swimming",
    "basketball", "soccer", "tennis", "american_football", "training", "walking",
    "cross_country_skiing", "alpine_skiing", "snowboarding", "rowing", "mountaineering",
    "hiking", "multisport", "paddling", "flying", "e_biking", "motorcycling", "boating",
    "driving", "golf", "hang_gliding", "horseback_riding", "hunting", "fishing",
    "inline_skating", "rock_climbing", "sailing", "ice_skating", "sky_diving",
    "snowshoeing", "snowmobiling", "stand_up_paddleboarding", "surfing", "wakeboarding",
    "water_skiing", "kayaking", "rafting", "windsurfing", "kitesurfing", "tactical",
    "jumpmaster", "boxing", "floor_climbing", "diving", "yoga", "other",
})

NAME_MAX = 255
DESCRIPTION_MAX = 10_000


class Invalid(ValueError):
    """An edit refused; the message says what to send instead."""


def parse(body: bytes) -> dict[str, str | int | None]:
    """The fields to change from a PATCH body, checked (whose gear `gear_id` is, `apply`
    checks); Invalid otherwise."""
    try:
        changes = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise Invalid("Send a JSON object with name, sport or description.") from None
    if not isinstance(changes, dict) or not changes:
        raise Invalid("Send a JSON object with name, sport or description.")
    unknown = sorted(set(changes) - {"name", "sport", "description", "gear_id", "visibility"})
    if unknown:
        raise Invalid(f"Only name, sport, description, gear_id and visibility can be "
                      f"changed, not {', '.join(unknown)}.")
    if "visibility" in changes and changes["visibility"] not in Visibility.values:
        raise Invalid("visibility is one of " + ", ".join(Visibility.values) + ".")
    gear = changes.get("gear_id")
    if gear is not None and (isinstance(gear, bool) or not isinstance(gear, int)):
        raise Invalid("gear_id is the id of one of your gear, or null for none.")
    for key, value in changes.items():
        if key == "gear_id":
            continue
        if not isinstance(value, str):
            raise Invalid(f"{key} is a string.")
        if "\x00" in value or (key != "description" and not value.isprintable()):
            raise Invalid(f"{key} may not contain control characters.")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate (JSON's \ud800): not storable text
            raise Invalid(f"{key} is not valid Unicode text.") from None
    name = changes.get("name")
    if name is not None and not 1 <= len(name.strip()) <= NAME_MAX:
        raise Invalid(f"name is 1 to {NAME_MAX} characters (not only spaces).")
    description = changes.get("description")
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise Invalid(f"description is at most {DESCRIPTION_MAX} characters.")
    sport = changes.get("sport")
    if sport is not None and sport not in SPORTS and sport != "":
        raise Invalid("sport is one of " + ", ".join(sorted(SPORTS)) + ", or \"\" to show "
                      "the file's own sport again.")
    return {key: value.strip() if key == "name" else value for key, value in changes.items()}


def apply(activity: Activity, changes: dict[str, str | int | None]) -> None:
    """Write the checked changes (only their fields: a concurrent settle is not undone);
    a change of sport or gear owes the owner's books a rebuild, in the same transaction.
    Invalid for a gear that is not the owner's."""
    gear = changes.get("gear_id")
    if gear is not None and not Gear.objects.filter(id=gear, owner_id=activity.owner_id).exists():
        raise Invalid(f"You have no gear {gear}.")
    fields = {"name": "name", "description": "description", "sport": "user_sport",
              "gear_id": "gear_id", "visibility": "visibility"}
    for key, value in changes.items():
        setattr(activity, fields[key], value)
    saved = [fields[key].removesuffix("_id") for key in changes]
    if "visibility" in changes:
        saved.append("share_id")
        activity.share_id = new_share_id(activity)
    with transaction.atomic():  # the edit, its event (the outbox) and the books' flags
        activity.save(update_fields=saved)
        announced.edited.send(sender=Activity, activity=activity, changes=changes,
                              now=clock.now())


def new_share_id(activity: Activity) -> str | None:
    """The link's name for the activity's (new) visibility: none while private (every
    shared read stops with the save), the one it has while shared, else a new one of 144
    random bits (an old link never comes back to life)."""
    if activity.visibility == Visibility.PRIVATE:
        return None
    return activity.share_id or secrets.token_urlsafe(18)
