"""What an activity is called wherever a person sees it: the name its owner gave, else its
title (core.titles, from the summary), else the name of the file it came from (until
the summary exists, or when processing failed). Two activities never both read as a bare
"Activity": an untitled one without a file name is told apart by its number."""

from __future__ import annotations

import json
from pathlib import PurePosixPath

from activities.models import Activity, ArchiveMember, Derived, Upload
from core import titles

#: Suffixes a download adds again, so that "run.fit" is not sent as "run.fit.fit".
_SUFFIXES = (".gz", ".fit", ".gpx", ".tcx", ".zip")


def file_names(activities: list[Activity]) -> dict[int, str]:
    """Activity id -> the base name of the file it came from ("" when unknown): the
    uploaded file's, or for an archive's file, the member's."""
    out: dict[int, str] = {}
    from_archives = []
    for activity in activities:
        upload = activity.upload
        if upload.kind == Upload.Kind.ARCHIVE:
            from_archives.append(activity.id)
        else:
            out[activity.id] = base_name(upload.original_name)
    if from_archives:
        for activity_id, name in (ArchiveMember.objects
                                  .filter(activity_id__in=from_archives)
                                  .exclude(status=ArchiveMember.Status.DUPLICATE)
                                  .values_list("activity_id", "name")):
            out[activity_id] = base_name(name)
    return out


def base_name(name: str) -> str:
    """The last part of a path as a client or zip wrote it ("a/b\\c.fit" -> "c.fit")."""
    return PurePosixPath(name.replace("\\", "/")).name if name else ""


def shown(activity: Activity, summary: dict | None, file_name: str = "") -> str:
    """The name to show: given, else titled, else the file's, else "Activity <id>"."""
    if activity.name:
        return activity.name
    title = (summary or {}).get("title") or ""
    if title and title != titles.DEFAULT_WORD:
        return title
    if file_name:
        return file_name
    return f"{titles.DEFAULT_WORD} {activity.id}"


def shown_all(activities: list[Activity], summaries: dict[int, dict]) -> dict[int, str]:
    """shown() for many activities, reading file names only for those that need one."""
    untitled = [a for a in activities if not a.name and (summaries.get(a.id) or {}).get(
        "title", titles.DEFAULT_WORD) == titles.DEFAULT_WORD]
    files = file_names(untitled) if untitled else {}
    return {a.id: shown(a, summaries.get(a.id), files.get(a.id, "")) for a in activities}


def download_stem(name: str) -> str:
    """A shown name as a download's file name, without the suffix the download adds."""
    stem = name
    for suffix in _SUFFIXES:
        stem = stem.removesuffix(suffix).removesuffix(suffix.upper())
    return stem


def name_of(activity: Activity) -> str:
    """shown() for one activity, reading what it needs (its summary's title, its file)."""
    if activity.name:
        return activity.name
    return shown_all([activity], summaries([activity]))[activity.id]


def summaries(activities: list[Activity]) -> dict[int, dict]:
    """Activity id -> its summary as the API serves it (stale ones keep their data)."""
    rows = (Derived.objects.filter(activity__in=activities, deriver="summary",
                                   data__isnull=False)
            .exclude(status=Derived.Status.FAILED).values_list("activity_id", "data"))
    return {activity_id: json.loads(bytes(data)) for activity_id, data in rows}
