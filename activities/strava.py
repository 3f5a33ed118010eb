"""Strava's v3 shapes: an upload and an activity as Strava's API writes them, so that
clients written for Strava (stravalib and others) read Cairn's answers unchanged."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from activities import times
from activities.models import Activity, Derived, Gear, Profile, Upload

#: Strava's own status sentences (developers.strava.com, "Upload").
PROCESSING = "Your activity is still being processed."
READY = "Your activity is ready."
ERROR = "There was an error processing your activity."

#: (sport, sub_sport) -> Strava sport_type; a sport alone covers every sub-sport.
_SPORT_TYPES = {
    ("cycling", "indoor_cycling"): "VirtualRide",
    ("cycling", "virtual_activity"): "VirtualRide",
    ("cycling", "mountain"): "MountainBikeRide",
    ("cycling", "gravel_cycling"): "GravelRide",
    ("cycling", "e_bike_fitness"): "EBikeRide",
    ("cycling", None): "Ride",
    ("running", "trail"): "TrailRun",
    ("running", "virtual_activity"): "VirtualRun",
    ("running", None): "Run",
    ("swimming", None): "Swim",
    ("walking", None): "Walk",
    ("hiking", None): "Hike",
    ("rowing", "indoor_rowing"): "VirtualRow",
    ("rowing", None): "Rowing",
    ("fitness_equipment", "indoor_rowing"): "VirtualRow",
    ("fitness_equipment", "elliptical"): "Elliptical",
    ("fitness_equipment", "stair_climbing"): "StairStepper",
    ("stand_up_paddleboarding", None): "StandUpPaddling",
    ("kayaking", None): "Kayaking",
    ("alpine_skiing", None): "AlpineSki",
    ("cross_country_skiing", None): "NordicSki",
    ("snowboarding", None): "Snowboard",
    ("training", None): "WeightTraining",
}
#: Legacy `type`: the older, shorter list (a sport_type not in it falls back to Workout).
_TYPES = {"Ride", "Run", "Swim", "Walk", "Hike", "VirtualRide", "VirtualRun", "Rowing",
          "StandUpPaddling", "Kayaking", "AlpineSki", "NordicSki", "Snowboard",
          "WeightTraining", "Elliptical", "StairStepper", "Workout"}


def sport_type(sport: str | None, sub_sport: str | None) -> str:
    # GPX exports from Strava carry its own names ("cycling", "running") in <type>.
    sport = (sport or "").lower()
    return _SPORT_TYPES.get((sport, sub_sport)) or _SPORT_TYPES.get((sport, None)) or "Workout"


def upload_dict(upload: Upload, *, error: str | None = None) -> dict:
    """An upload as Strava shows it: activity_id only once the activity is ready."""
    activity = upload.activity
    status, activity_id = PROCESSING, None
    if error is None and activity is not None:
        if activity.state == Activity.Status.READY:
            status, activity_id = READY, activity.id
        elif activity.state in (Activity.Status.FAILED, Activity.Status.DEAD):
            error = activity.error_message or "The file could not be processed."
    if error is not None:
        status = ERROR
    return {"id": upload.id, "id_str": str(upload.id),
            "external_id": activity.external_id if activity else None,
            "error": error, "status": status, "activity_id": activity_id}


def local_start(summary: dict, owner_zone: str | None) -> dict:
    """Strava's `start_date_local` (the wall-clock time where it began, written with a
    "Z" as Strava writes it), `timezone` ("(GMT-05:00) America/New_York") and `utc_offset`
    (seconds): in the zone where the activity began, else its owner's, else UTC."""
    zone = times.zone(summary.get("timezone")) or times.zone(owner_zone) or times.zone("UTC")
    start = summary.get("start_time")
    # Without a start (no timestamps), the zone's offset as it is now.
    local = (datetime.fromisoformat(start) if start else datetime.now(UTC)).astimezone(zone)
    offset = local.utcoffset().total_seconds()
    sign, minutes = "-" if offset < 0 else "+", abs(int(offset)) // 60
    return {"start_date_local": local.strftime("%Y-%m-%dT%H:%M:%SZ") if start else None,
            "timezone": f"(GMT{sign}{minutes // 60:02d}:{minutes % 60:02d}) {zone.key}",
            "utc_offset": offset}


def activity_dict(activity: Activity) -> dict:
    """A DetailedActivity with Strava's names for Cairn's totals."""
    return activity_dicts([activity], detailed=True)[0]


def activity_dicts(activities: list[Activity], *, detailed: bool) -> list[dict]:
    """DetailedActivity (resource_state 3) or SummaryActivity (2, as lists give them:
    no description, the route's summary polyline only), in one query."""
    outputs: dict[int, dict[str, dict]] = {a.id: {} for a in activities}
    for activity_id, deriver, data in Derived.objects.filter(
            activity__in=activities, deriver__in=("summary", "route"),
            data__isnull=False).values_list("activity_id", "deriver", "data"):
        outputs[activity_id][deriver] = json.loads(bytes(data))
    owners = {a.owner_id for a in activities}
    zones = dict(Profile.objects.filter(user_id__in=owners).values_list("user_id", "time_zone"))
    kinds = dict(Gear.objects.filter(id__in={a.gear_id for a in activities if a.gear_id})
                 .values_list("id", "kind"))
    shown = []
    for activity in activities:
        found = outputs[activity.id]
        shown.append(_activity_dict(activity, found.get("summary", {}), found.get("route", {}))
                     | local_start(found.get("summary", {}), zones.get(activity.owner_id))
                     | {"gear_id": gear_id(activity.gear_id, kinds)})
        if not detailed:
            shown[-1] |= {"resource_state": 2, "map": {**shown[-1]["map"], "polyline": None,
                                                       "resource_state": 2}}
            del shown[-1]["description"]
    return shown


def gear_id(gear: int | None, kinds: dict[int, str]) -> str | None:
    """Strava's gear id: "b<id>" for a bike, "g<id>" for other gear; None without one."""
    if gear is None or gear not in kinds:
        return None
    return f"{'b' if kinds[gear] == Gear.Kind.BIKE else 'g'}{gear}"


def _activity_dict(activity: Activity, summary: dict, route: dict) -> dict:
    # The owner's sport (PATCH) wins over the file's.
    sport, sub_sport = summary.get("sport"), summary.get("sub_sport")
    if activity.user_sport:
        sport, sub_sport = activity.user_sport, None
    kind = sport_type(sport, sub_sport)
    points = route.get("points") or []
    return {
        "id": activity.id, "resource_state": 3,
        "external_id": activity.external_id or None, "upload_id": activity.upload_id,
        "upload_id_str": str(activity.upload_id),
        "athlete": {"id": activity.owner_id, "resource_state": 1},
        "name": activity.name or summary.get("title") or "",
        "description": activity.description or None,
        "distance": summary.get("distance_m") or 0.0,
        "moving_time": round(summary.get("moving_s") or 0),
        "elapsed_time": round(summary.get("elapsed_s") or 0),
        "total_elevation_gain": summary.get("ascent_m") or 0.0,
        "elev_high": None, "elev_low": None,
        "type": kind if kind in _TYPES else "Workout", "sport_type": kind,
        "start_date": summary.get("start_time"),
        "start_latlng": points[0] if points else [], "end_latlng": points[-1] if points else [],
        "map": {"id": f"a{activity.id}", "resource_state": 3,
                "polyline": route.get("polyline"), "summary_polyline": route.get("polyline")},
        "trainer": activity.trainer, "commute": activity.commute, "manual": False,
        # Strava knows no "unlisted": only a public activity is seen by everyone there.
        "private": activity.visibility == "private", "flagged": False, "gear_id": None,
        "visibility": "everyone" if activity.visibility == "public" else "only_me",
        "average_speed": summary.get("avg_speed_mps") or 0.0,
        "max_speed": summary.get("max_speed_mps") or 0.0,
        "average_cadence": summary.get("avg_cadence"),
        "average_watts": summary.get("avg_power_w"), "max_watts": summary.get("max_power_w"),
        "device_watts": summary.get("avg_power_w") is not None,
        "has_heartrate": summary.get("avg_hr_bpm") is not None,
        "average_heartrate": summary.get("avg_hr_bpm"),
        "max_heartrate": summary.get("max_hr_bpm"),
        "achievement_count": 0, "kudos_count": 0, "comment_count": 0, "athlete_count": 1,
        "photo_count": 0, "total_photo_count": 0, "has_kudoed": False,
    }
