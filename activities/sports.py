"""Sports as people name them. Files and the API use FIT's names ("e_biking",
"cross_country_skiing"); pages show "E-bike ride", "Cross-country skiing", and a sport no
one named (FIT's "generic") as no sport at all."""

from __future__ import annotations

#: The sports most people record, in the order the edit page offers them.
COMMON = ("running", "cycling", "walking", "hiking", "swimming", "training",
          "fitness_equipment", "e_biking", "rowing", "cross_country_skiing",
          "alpine_skiing", "paddling")

#: FIT name -> what people call it (the rest: the FIT name with spaces, capitalised).
_NAMES = {
    "running": "Run", "cycling": "Ride", "walking": "Walk", "hiking": "Hike",
    "swimming": "Swim", "training": "Workout", "fitness_equipment": "Gym equipment",
    "e_biking": "E-bike ride", "rowing": "Row", "cross_country_skiing": "Cross-country skiing",
    "alpine_skiing": "Downhill skiing", "paddling": "Paddling",
    "stand_up_paddleboarding": "Stand-up paddleboarding", "american_football":
    "American football", "soccer": "Football (soccer)", "horseback_riding": "Horse riding",
    "sky_diving": "Skydiving", "floor_climbing": "Stair climbing", "e_bike_fitness":
    "E-bike", "multisport": "Multisport", "other": "Other",
}
#: Sub-sports worth saying beside the sport ("Run · Trail"); FIT's "generic" never is.
_QUIET_SUB_SPORTS = {"generic", "", None}
#: What a FIT file writes where its device did not say: shown as no sport.
UNNAMED = {"generic", "", None}


def name(sport: str | None) -> str:
    """ "e_biking" -> "E-bike ride"; "" for a sport no one named."""
    if sport in UNNAMED:
        return ""
    return _NAMES.get(sport) or sport.replace("_", " ").capitalize()


def sub_name(sub_sport: str | None) -> str:
    """A sub-sport worth showing ("trail" -> "Trail"), else ""."""
    if sub_sport in _QUIET_SUB_SPORTS:
        return ""
    return sub_sport.replace("_", " ").capitalize()


def grouped(sports, *, keep: str = "") -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(value, name) pairs for a choice: the common sports first in COMMON's order, then
    the rest by name. Sports no one would pick for an activity (FIT's "generic",
    "transition", "tactical", "jumpmaster") are left out, but for `keep` (the current
    choice, which must stay selectable)."""
    offered = set(sports) - {"generic", "transition", "tactical", "jumpmaster"}
    if keep and keep in sports:
        offered.add(keep)
    common = [(s, name(s)) for s in COMMON if s in offered]
    rest = sorted(((s, name(s)) for s in offered - set(COMMON)), key=lambda p: p[1])
    return common, rest
