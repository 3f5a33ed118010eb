"""What a bulk export holds for each activity: its row of activities.csv, and its files
under names that depend only on the activity (`originals/<id>-<name>.<ext>`,
`files/<id>-<name>.<fmt>`), so that a zip built again is the same zip."""

from __future__ import annotations

import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from activities import names, storage
from activities.models import Activity, Derived
from core import track as tracks
from core.errors import DeriveError
from core.writers import Meta, WriteError, write
from exports.models import Export

#: activities.csv's columns, in order.
COLUMNS = ("id", "name", "sport", "start_time", "distance_m", "moving_s", "elapsed_s",
           "description", "gear", "original_file", "file", "note")
CSV_NAME = "activities.csv"
_UNSAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Member:
    """One file of the zip."""

    name: str
    data: bytes
    #: Already compressed (a gzipped original, a FIT file barely shrinks): stored as is.
    stored: bool = False


@dataclass(frozen=True)
class Written:
    """One activity's files and its row of the CSV (COLUMNS' values)."""

    members: list[Member]
    row: list[str]


def slug(name: str) -> str:
    """A name as part of a file name: ASCII letters and digits, dashes, at most 60."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _UNSAFE.sub("-", ascii_name.lower()).strip("-")[:60].strip("-") or "activity"


def chunk(export: Export, activities: list[Activity]) -> Iterator[Written]:
    """The files and rows of these activities, in their order, one activity at a time (a
    chunk's files are never all in memory at once). Reads their stored tracks in one
    query, and each original as its turn comes (storage.Unavailable when the store is
    away)."""
    summaries = names.summaries(activities)
    shown = names.shown_all(activities, summaries)
    wanted = export.contents
    blobs = {}
    if wanted != Export.Contents.ORIGINALS:
        blobs = dict(Derived.objects.filter(
            activity__in=activities, deriver="track", status=Derived.Status.READY,
            data__isnull=False).values_list("activity_id", "data"))
    for activity in activities:
        yield _one(export, activity, summaries.get(activity.id) or {}, shown[activity.id],
                   blobs.pop(activity.id, None))


def _one(export: Export, activity: Activity, summary: dict, name: str,
         blob: bytes | None) -> Written:
    stem = f"{activity.id}-{slug(names.download_stem(name))}"
    members: list[Member] = []
    notes: list[str] = []
    original = regenerated = ""
    if export.contents != Export.Contents.FILES:
        gzipped = activity.file_name.endswith(".gz")
        try:
            data = storage.read_original(activity.file_name)
        except DeriveError as error:
            if not error.permanent:
                raise storage.Unavailable(str(error)) from error
            notes.append("original missing from storage")
        else:
            original = f"originals/{stem}.{activity.format}{'.gz' if gzipped else ''}"
            members.append(Member(original, data, stored=gzipped or activity.format == "fit"))
    if export.contents != Export.Contents.ORIGINALS:
        if blob is None:
            notes.append(_not_ready(activity))
        else:
            meta = Meta(name=name, sport=activity.shown_sport, description=activity.description)
            try:
                data = write(tracks.decode(bytes(blob)), meta, export.format)
            except (WriteError, tracks.TrackFormatError) as error:
                notes.append(f"no {export.format} file: {error}")
            else:
                regenerated = f"files/{stem}.{export.format}"
                members.append(Member(regenerated, data, stored=export.format == "fit"))
    row = [str(activity.id), name, activity.shown_sport or "",
           activity.start_time.isoformat() if activity.start_time else "",
           _number(summary.get("distance_m")), _number(summary.get("moving_s")),
           _number(summary.get("elapsed_s")), activity.description,
           activity.gear.name if activity.gear else "", original, regenerated,
           "; ".join(notes)]
    return Written(members, row)


def _not_ready(activity: Activity) -> str:
    if activity.status in (Activity.Status.FAILED, Activity.Status.DEAD):
        return f"no regenerated file: processing failed ({activity.error_code or 'error'})"
    return "no regenerated file: the track is not ready yet (still processing)"


def _number(value) -> str:
    if value is None:
        return ""
    return str(round(value, 1)) if isinstance(value, float) else str(value)


def compression(member: Member) -> int:
    return zipfile.ZIP_STORED if member.stored else zipfile.ZIP_DEFLATED
