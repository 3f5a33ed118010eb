"""Strava's account export: its activities.csv, read for what the activity files lack.

A Strava export holds activities/<id>.fit.gz (or .gpx, .tcx.gz) and activities.csv, one
row per activity: "Activity ID", "Activity Name", "Activity Type", "Activity
Description", "Commute", "Filename" (the file's path in the export, empty for a manual
entry) and some forty more. Some headers repeat ("Commute", "Distance", "Elapsed Time":
a second, numeric copy further right); the first of each is read. Only rows with a
file name matter here: they say what the person named and flagged each file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import PurePosixPath

#: The member that holds the list, wherever the export's root folder is.
FILE_NAME = "activities.csv"
#: Larger than any export's list (a row is about 1 kB; 16 MB is some 15,000 activities
#: with long descriptions): a bigger file is not read.
MAX_BYTES = 16 * 2**20

_TRUE = {"true", "1", "1.0", "yes"}


@dataclass(frozen=True, kw_only=True)
class Entry:
    """What the export says about one activity file."""

    activity_id: str
    name: str
    sport_type: str  # Strava's "Activity Type": "Ride", "Run", "Virtual Ride"...
    description: str
    commute: bool
    file_name: str  # the member's name in the archive
    #: Cairn's sport for it when the list's reader knows it (Garmin's); "" for Strava's,
    #: whose types `sport` maps.
    sport: str = ""
    listed_in: str = FILE_NAME  # the list's member name
    started_at: float | None = None  # Unix seconds, where the list says (Garmin's)
    duration_s: float = 0.0


#: Strava's activity types as the FIT sports Cairn's summaries and edits use; a type not
#: here leaves the file's own sport shown.
SPORTS = {
    "ride": "cycling", "virtual ride": "cycling", "mountain bike ride": "cycling",
    "gravel ride": "cycling", "velomobile": "cycling", "handcycle": "cycling",
    "e-bike ride": "e_biking", "e-mountain bike ride": "e_biking",
    "run": "running", "trail run": "running", "virtual run": "running",
    "walk": "walking", "hike": "hiking", "swim": "swimming", "rowing": "rowing",
    "virtual row": "rowing", "kayaking": "kayaking", "canoeing": "paddling",
    "stand up paddling": "stand_up_paddleboarding", "surfing": "surfing",
    "windsurf": "windsurfing", "kitesurf": "kitesurfing", "sail": "sailing",
    "alpine ski": "alpine_skiing", "backcountry ski": "alpine_skiing",
    "nordic ski": "cross_country_skiing", "snowboard": "snowboarding",
    "snowshoe": "snowshoeing", "ice skate": "ice_skating", "inline skate": "inline_skating",
    "rock climb": "rock_climbing", "golf": "golf", "yoga": "yoga",
    "workout": "training", "weight training": "training",
}


def sport(entry: Entry) -> str:
    """The FIT sport for the export's activity type, or "" when it names none Cairn has."""
    if entry.sport:
        return entry.sport
    return SPORTS.get(" ".join(entry.sport_type.lower().split()), "")


def is_list(member_name: str) -> bool:
    return PurePosixPath(member_name.replace("\\", "/")).name.lower() == FILE_NAME


def entries(data: bytes, *, member_name: str = FILE_NAME) -> dict[str, Entry]:
    """Archive member name -> Entry, for each row naming a file. `member_name` is where
    the list lies: file names in it are relative to its folder. A list that is not
    UTF-8 CSV with an "Activity ID" and a "Filename" column gives nothing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return {}
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if not header:
        return {}
    column: dict[str, int] = {}
    for index, title in enumerate(header):
        column.setdefault(title.strip().lower(), index)
    if "activity id" not in column or "filename" not in column:
        return {}
    folder = PurePosixPath(member_name.replace("\\", "/")).parent

    def cell(row: list[str], title: str) -> str:
        index = column.get(title)
        return row[index].strip() if index is not None and index < len(row) else ""

    found: dict[str, Entry] = {}
    try:
        for row in rows:
            file_name = cell(row, "filename").replace("\\", "/").removeprefix("./")
            if not file_name:
                continue  # a manual entry: no file
            path = str(folder / file_name) if str(folder) != "." else file_name
            found[path] = Entry(
                activity_id=cell(row, "activity id"), name=cell(row, "activity name"),
                sport_type=cell(row, "activity type"),
                description=cell(row, "activity description"),
                commute=cell(row, "commute").lower() in _TRUE, file_name=path,
                listed_in=member_name)
    except csv.Error:
        return found  # what was read before the damage still holds
    return found
