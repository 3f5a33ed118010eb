"""An activity's title, as Strava makes one: the file's own name where it has one, else
the time of day where it began and the sport ("Morning Run", "Night Ride").

The time of day is the start's local time at the start's position: a run at 06:30 in
Tokyo is a morning run even though it was 21:30 UTC. The time zone comes from the
position offline (timezonefinder ships the boundaries); without a position, the title
has no time of day ("Run"), since UTC would name the wrong part of most people's day.
A file name, or a bare number, is never a title: exports name their files by number.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Cairn's sports (FIT's names, GPX <type> lower-cased) -> the word Strava titles them by.
SPORT_WORDS = {
    "running": "Run",
    "run": "Run",
    "cycling": "Ride",
    "biking": "Ride",
    "ride": "Ride",
    "e_biking": "E-Bike Ride",
    "walking": "Walk",
    "walk": "Walk",
    "hiking": "Hike",
    "hike": "Hike",
    "swimming": "Swim",
    "swim": "Swim",
    "rowing": "Row",
    "paddling": "Paddle",
    "kayaking": "Kayak",
    "alpine_skiing": "Ski",
    "cross_country_skiing": "Nordic Ski",
    "snowboarding": "Snowboard",
    "inline_skating": "Inline Skate",
    "ice_skating": "Ice Skate",
    "stand_up_paddleboarding": "Stand Up Paddle",
    "sailing": "Sail",
    "golf": "Golf",
    "training": "Workout",
    "fitness_equipment": "Workout",
}
DEFAULT_WORD = "Activity"
#: Longest title kept from a file (Activity.name's length).
MAX_LENGTH = 255

# A number or a time stamp: "1", "123_456", "2020-12-18 07:24:29", "03-OCT-10",
# "5/13/18 4:11 PM", "2013-07-06T14:59:00Z" (devices name tracks by when they began).
_STAMP = re.compile(r"(?:\d+|[\s/.:_,+-]|T|Z|AM|PM|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT"
                    r"|NOV|DEC)*", re.IGNORECASE)
_FILE_NAME = re.compile(r"\.(?:fit|gpx|tcx|gz|zip|csv)\Z", re.IGNORECASE)
# What devices and apps write where no one named the track (Garmin's "ACTIVE LOG 003").
_PLACEHOLDER = re.compile(r"(?:active log|untitled(?: path| track)?|new track|current track"
                          r"|track)(?:\s*\d+)?", re.IGNORECASE)


def time_of_day(hour: int) -> str:
    """Strava's parts of the day, by the local hour."""
    if 5 <= hour < 11:
        return "Morning"
    if 11 <= hour < 13:
        return "Lunch"
    if 13 <= hour < 17:
        return "Afternoon"
    if 17 <= hour < 21:
        return "Evening"
    return "Night"


def title(*, sport: str | None, start: float | None, lat: float | None = None,
          lon: float | None = None, zone: ZoneInfo | None = None,
          name: str | None = None) -> str:
    """The file's own `name` if it is a real one, else "<time of day> <sport>" from the
    start (epoch seconds) in the start's time `zone` (else the zone at (lat, lon)), else
    the sport alone."""
    own = usable_name(name)
    if own:
        return own
    word = SPORT_WORDS.get((sport or "").strip().lower(), DEFAULT_WORD)
    if zone is None and lat is not None and lon is not None:
        zone = zone_of(lat, lon)
    local = in_zone(start, zone)
    return f"{time_of_day(local.hour)} {word}" if local is not None else word


def usable_name(name: str | None) -> str | None:
    """A name as a person gave it, or None: blank, a bare number or time stamp, a file
    name or a device's placeholder (written where no one named the activity)."""
    if not name:
        return None
    cleaned = " ".join(name.split())[:MAX_LENGTH]
    if (not cleaned or _STAMP.fullmatch(cleaned) or _FILE_NAME.search(cleaned)
            or _PLACEHOLDER.fullmatch(cleaned)):
        return None
    return cleaned


def local_time(start: float | None, lat: float | None, lon: float | None) -> datetime | None:
    """The start as the clock on the wall showed it where it began; None without a start
    or a position, or where no time zone is known (open sea keeps its nautical zone)."""
    if lat is None or lon is None:
        return None
    return in_zone(start, zone_of(lat, lon))


def in_zone(start: float | None, zone: ZoneInfo | None) -> datetime | None:
    """Epoch seconds as the wall clock in `zone` read them; None without either."""
    if start is None or zone is None or not math.isfinite(start):
        return None
    try:
        return datetime.fromtimestamp(start, UTC).astimezone(zone)
    except (OverflowError, OSError, ValueError):
        return None


def zone_of(lat: float, lon: float) -> ZoneInfo | None:
    """The time zone at a position (to 4 decimals, ~10 m: cached alike); None at sea or
    for a position that is no place."""
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    return zone_at(round(lat, 4), round(lon, 4))


@cache
def _finder():
    from timezonefinder import TimezoneFinder  # its data loads on first use (~0.2 s)

    return TimezoneFinder()


def zone_at(lat: float, lon: float) -> ZoneInfo | None:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    name = _finder().timezone_at(lat=lat, lng=lon)
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None
