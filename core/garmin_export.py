"""Garmin Connect's account export: its summarizedActivities JSON, read for what the
activity files lack.

Garmin's "Export Your Data" zip holds DI_CONNECT/DI-Connect-Fitness/
<email>_0_summarizedActivities.json (`_1_`... for more) and the uploaded activity files in
zips nested in DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip (Part2...),
named <email>_<activityId>.fit (or .gpx, .tcx). The JSON is a list holding
{"summarizedActivitiesExport": [activity, ...]}; each activity has "activityId", "name",
"activityType" ("running", "road_biking", "lap_swimming"...), "startTimeGmt" and
"duration" (milliseconds), "description" where one was written, "manualActivity".

A list of tens of thousands of activities is some hundred megabytes: it is read as a
stream, an activity at a time, and only what Cairn uses is kept.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath

from core.exports import Entry

#: More than any account's list (some 3 kB an activity: about 80,000 activities).
MAX_BYTES = 256 * 2**20
#: One activity's JSON (its splits and laps included) is far smaller than this.
MAX_ACTIVITY_BYTES = 4 * 2**20
#: How far from its activity's start and end a file's creation time may lie to match.
SLACK_S = 300

_WRAPPER = "summarizedActivitiesExport"
_CHUNK = 1 << 16
_LIST_NAME = re.compile(r"summarizedactivities\.json$")
# <email>_<activityId>.fit as uploaded files are named; <activityId>_ACTIVITY.fit as
# Garmin Connect's "Export Original" names them; .gz as some tools leave them.
_FILE_ID = re.compile(r"(?:^|_)(\d{5,20})(?:_activity)?\.(?:fit|gpx|tcx)(?:\.gz)?$")

#: Garmin Connect's activity type keys as the FIT sports Cairn's summaries and edits
#: use; a type not here leaves the file's own sport shown.
SPORTS = {
    **dict.fromkeys(("running", "trail_running", "treadmill_running", "track_running",
                     "indoor_running", "street_running", "ultra_run", "virtual_run",
                     "obstacle_run"), "running"),
    **dict.fromkeys(("cycling", "road_biking", "mountain_biking", "gravel_cycling",
                     "indoor_cycling", "virtual_ride", "cyclocross", "track_cycling",
                     "recumbent_cycling", "bmx", "downhill_biking"), "cycling"),
    **dict.fromkeys(("e_bike_fitness", "e_bike_mountain", "e_enduro_mtb"), "e_biking"),
    **dict.fromkeys(("swimming", "lap_swimming", "open_water_swimming"), "swimming"),
    **dict.fromkeys(("walking", "casual_walking", "speed_walking"), "walking"),
    "hiking": "hiking", "mountaineering": "mountaineering",
    **dict.fromkeys(("rowing", "indoor_rowing"), "rowing"),
    **dict.fromkeys(("resort_skiing_snowboarding_ws", "resort_skiing", "backcountry_skiing",
                     "backcountry_skiing_snowboarding_ws", "skiing_ws"), "alpine_skiing"),
    "resort_snowboarding": "snowboarding",
    **dict.fromkeys(("cross_country_skiing_ws", "skate_skiing_ws",
                     "cross_country_classic_skiing"), "cross_country_skiing"),
    "snow_shoe_ws": "snowshoeing", "stand_up_paddleboarding_v2": "stand_up_paddleboarding",
    "stand_up_paddleboarding": "stand_up_paddleboarding", "kayaking_v2": "kayaking",
    "kayaking": "kayaking", "paddling": "paddling", "surfing": "surfing",
    "windsurfing": "windsurfing", "kiteboarding": "kitesurfing", "sailing_v2": "sailing",
    "sailing": "sailing", "rafting": "rafting", "whitewater_rafting_kayaking": "rafting",
    **dict.fromkeys(("rock_climbing", "bouldering", "indoor_climbing"), "rock_climbing"),
    "inline_skating": "inline_skating", "skating_ws": "ice_skating",
    **dict.fromkeys(("strength_training", "cardio_training", "hiit", "indoor_cardio",
                     "fitness_equipment", "elliptical", "stair_climbing", "pilates"),
                    "training"),
    "yoga": "yoga", "golf": "golf", "boxing": "boxing", "multi_sport": "multisport",
    "horseback_riding": "horseback_riding", "hunting": "hunting", "fishing": "fishing",
    "diving": "diving", "motorcycling_v2": "motorcycling", "motorcycling": "motorcycling",
    "driving_general": "driving", "flying": "flying", "other": "other",
}


class Damaged(ValueError):
    """The list stops being JSON as Garmin writes it (what was read before still holds)."""


def is_list(member_name: str) -> bool:
    return bool(_LIST_NAME.search(PurePosixPath(member_name.replace("\\", "/")).name.lower()))


def activity_id(member_name: str) -> str:
    """The Garmin activity id an uploaded file's name carries, or ""."""
    found = _FILE_ID.search(PurePosixPath(member_name.replace("\\", "/")).name.lower())
    return found.group(1) if found else ""


def sport(activity_type: str) -> str:
    return SPORTS.get(activity_type.strip().lower(), "")


def entries(read: Callable[[int], bytes], *, member_name: str) -> dict[str, Entry]:
    """Activity id -> Entry for each activity recorded in a file (manual entries have
    none), read from `read` (a binary stream's read) an activity at a time. A list past
    MAX_BYTES, or whose JSON breaks off, gives what was read before."""
    found: dict[str, Entry] = {}
    try:
        for item in _activities(_Stream(read)):
            entry = _entry(item, member_name)
            if entry is not None:
                found[entry.activity_id] = entry
    except (Damaged, UnicodeDecodeError):
        pass
    return found


def _entry(item: dict, member_name: str) -> Entry | None:
    identifier = item.get("activityId")
    if isinstance(identifier, bool) or not isinstance(identifier, int | str):
        return None
    identifier = str(identifier).strip()
    if not identifier.isdigit() or item.get("manualActivity") is True:
        return None
    kind = item.get("activityType")
    if isinstance(kind, dict):  # the Connect API's shape: {"typeKey": "running", ...}
        kind = kind.get("typeKey")
    kind = kind if isinstance(kind, str) else ""
    start, duration = item.get("startTimeGmt"), item.get("duration")
    return Entry(
        activity_id=identifier, name=_text(item.get("name")), sport_type=kind,
        sport=sport(kind), description=_text(item.get("description")), commute=False,
        file_name=f"{member_name}#{identifier}", listed_in=member_name,
        started_at=start / 1000 if _number(start) else None,
        duration_s=duration / 1000 if _number(duration) else 0.0)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def by_time(listed: dict[str, Entry], created_at: float) -> Entry | None:
    """The listed activity a file made at `created_at` (Unix seconds) belongs to: the one
    with the nearest start whose span (SLACK_S either side) holds that time. A device
    sets a file's creation time at the start of the recording, some at its end."""
    best: Entry | None = None
    for entry in listed.values():
        if entry.started_at is None:
            continue
        if not (entry.started_at - SLACK_S <= created_at
                <= entry.started_at + entry.duration_s + SLACK_S):
            continue
        if best is None or (abs(entry.started_at - created_at)
                            < abs(best.started_at - created_at)):  # type: ignore[operator]
            best = entry
    return best


def _activities(stream: _Stream) -> Iterator[dict]:
    """The activities of `[{"summarizedActivitiesExport": [...]}, ...]`, or of a plain
    list of activities, one object at a time."""
    stream.expect("[")
    while (char := stream.peek()) != "]":
        if char == ",":
            stream.skip()
            continue
        stream.expect("{")
        fields: dict = {}
        while (char := stream.peek()) != "}":
            if char == ",":
                stream.skip()
                continue
            key = stream.value()
            stream.expect(":")
            if key == _WRAPPER:
                yield from _items(stream)
            else:
                fields[key] = stream.value()
        stream.skip()
        if "activityId" in fields:
            yield fields


def _items(stream: _Stream) -> Iterator[dict]:
    stream.expect("[")
    while (char := stream.peek()) != "]":
        if char == ",":
            stream.skip()
            continue
        item = stream.value()
        if isinstance(item, dict):
            yield item
    stream.skip()


class _Stream:
    """JSON values decoded one at a time from a byte stream, never more than one
    value's text (MAX_ACTIVITY_BYTES) held beyond what is unread."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._json = json.JSONDecoder()
        self._text, self._at, self._total, self._ended = "", 0, 0, False

    def _more(self) -> bool:
        if self._ended:
            return False
        chunk = self._read(_CHUNK)
        self._total += len(chunk)
        if self._total > MAX_BYTES:
            raise Damaged("the list is larger than the limit")
        self._ended = not chunk
        self._text = self._text[self._at:] + self._decoder.decode(chunk, final=not chunk)
        self._at = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            while self._at < len(self._text) and self._text[self._at] in " \t\r\n":
                self._at += 1
            if self._at < len(self._text):
                return self._text[self._at]
            if not self._more():
                raise Damaged("the list ends early")

    def skip(self) -> None:
        self._at += 1

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise Damaged(f"expected {char!r}")
        self._at += 1

    def value(self) -> object:
        self.peek()
        while True:
            try:
                value, end = self._json.raw_decode(self._text, self._at)
            except json.JSONDecodeError:
                value, end = None, -1
            # A value that reaches the end of the text may go on in the next chunk.
            if end != -1 and (end < len(self._text) or self._ended):
                self._at = end
                return value
            if len(self._text) - self._at > MAX_ACTIVITY_BYTES or not self._more():
                raise Damaged("a value too long or broken")
