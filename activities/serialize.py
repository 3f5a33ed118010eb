"""The JSON shapes of uploads and activities, shared by the API and the commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from django.db.models import Count

from activities import currency, problems
from activities.models import Activity, ArchiveMember, Derived, Upload
from core import derivers

#: Keys of the summary object (core.summarize); null until the summary exists.
SUMMARY_FIELDS = (
    "sport", "sub_sport", "start_time", "distance_m", "distance_source", "elapsed_s",
    "moving_s", "ascent_m", "descent_m", "avg_speed_mps", "max_speed_mps", "avg_hr_bpm",
    "max_hr_bpm", "avg_power_w", "max_power_w", "avg_cadence", "point_count", "sessions",
    "parts", "bbox", "title", "timezone",
)

# Uploads report four states; a dead activity is, to its uploader, a failed one.
UPLOAD_STATUS = {
    Activity.Status.QUEUED: "queued",
    Activity.Status.PROCESSING: "processing",
    Activity.Status.READY: "ready",
    Activity.Status.FAILED: "failed",
    Activity.Status.DEAD: "failed",
}


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def upload_dict(upload: Upload, activity: Activity | None = None, *,
                duplicate: bool = False, nothing_derived: bool = False) -> dict:
    """`nothing_derived`: the caller knows no output exists yet (spares a query)."""
    if upload.kind == Upload.Kind.ARCHIVE:
        return archive_dict(upload, duplicate=duplicate)
    if upload.kind == Upload.Kind.SESSION:
        return session_upload_dict(upload)
    activity = activity or upload.activity
    rows = {} if nothing_derived else _derived(activity)
    return {
        "id": upload.id,
        "activity_id": activity.id,
        "status": UPLOAD_STATUS[activity.state],
        "error": activity.error_message or None,
        "error_code": activity.error_code or None,
        "problem": _sentence(activity.error_code, activity.error_message),
        "progress": progress(rows),
        "duplicate": duplicate,
        # Once processed and checked: another activity this one is probably the same
        # outing as (the one kept; the duplicates check), else null.
        "probable_duplicate_of": activity.duplicate_of_id,
        "kind": upload.kind,
        "created_at": iso(upload.created_at),
        "updated_at": iso(max(filter(None, [upload.created_at, activity.processed_at,
                                            *(r.updated_at for r in rows.values())]))),
    }


def session_upload_dict(upload: Upload) -> dict:
    """An upload whose bytes come through a session (transfers/): `uploading` until they
    are in, then the upload they became (its own id), or `failed` with the reason."""
    session = upload.session
    if session.result_id is not None:
        return upload_dict(session.result) | {"session_upload_id": upload.id}
    failed = session.status == "failed"
    return {
        "id": upload.id, "kind": upload.kind, "activity_id": None,
        "status": "failed" if failed else "uploading",
        "error": session.error_message or None, "error_code": session.error_code or None,
        "problem": _sentence(session.error_code, session.error_message),
        "progress": {"size_bytes": session.size_bytes}, "duplicate": False,
        "created_at": iso(upload.created_at), "updated_at": iso(upload.created_at),
    }


def archive_dict(upload: Upload, *, duplicate: bool = False) -> dict:
    """An archive upload: its state and how many of its files went which way."""
    archive = upload.archive
    counts = dict(archive.members.values_list("status").annotate(n=Count("id")))
    if archive.error_code:
        status = "failed"
    elif archive.expanded_at is not None:
        status = "ready"
    elif archive.lease_token or archive.cursor:
        status = "processing"
    else:
        status = "queued"
    return {
        "id": upload.id,
        "kind": upload.kind,
        "activity_id": None,
        "status": status,
        "error": archive.error_message or None,
        "error_code": archive.error_code or None,
        "problem": _sentence(archive.error_code, archive.error_message),
        "progress": {
            "files": archive.members_total,
            # Files of the archive looked at: a missing one is named by its list only.
            "seen": sum(n for s, n in counts.items() if s != ArchiveMember.Status.MISSING),
            **{s: counts.get(s, 0) for s in ArchiveMember.Status.values},
        },
        "duplicate": duplicate,
        "created_at": iso(upload.created_at),
        "updated_at": iso(archive.expanded_at or upload.created_at),
    }


def _sentence(code: str, message: str) -> str | None:
    found = problems.explain(code, message)
    return found.sentence if found else None


def member_dict(member: ArchiveMember, deleted: frozenset[int] = frozenset()) -> dict:
    """`deleted`: ids of deleted activities, shown as none (the sweep clears the link)."""
    activity_id = None if member.activity_id in deleted else member.activity_id
    return {
        "index": member.index,
        "name": member.name,
        "status": member.status,
        "activity_id": activity_id,
        "duplicate_of": activity_id if member.status == "duplicate" else None,
        "error": member.error_message or None,
        "error_code": member.error_code or None,
    }


def activity_dict(activity: Activity) -> dict:
    return activity_dicts([activity])[0]


def activity_dicts(activities: list[Activity]) -> list[dict]:
    """Activities as the API shows them, in two queries however many there are."""
    ids = [a.id for a in activities]
    rows: dict[int, dict[str, Derived]] = {i: {} for i in ids}
    for row in Derived.objects.filter(activity_id__in=ids).defer("data"):
        rows[row.activity_id][row.deriver] = row
    summaries = {i: json.loads(bytes(data)) for i, data in Derived.objects.filter(
        activity_id__in=ids, deriver="summary", data__isnull=False).values_list(
        "activity_id", "data")}
    held = currency.held() if any(_has_old(r) for r in rows.values()) else set()
    return [_activity_dict(a, rows[a.id], summaries.get(a.id), held) for a in activities]


def _activity_dict(activity: Activity, rows: dict[str, Derived], summary: dict | None,
                   held: set[str]) -> dict:
    fields = {key: (summary or {}).get(key) for key in SUMMARY_FIELDS}
    # The owner's sport (PATCH) wins over the file's: a rebuild never writes it.
    fields["sport"] = activity.user_sport or fields["sport"]
    return {
        "id": activity.id,
        "upload_id": activity.upload_id,
        # The uploader's (or user's) name; else the derived title (the summary's).
        "name": activity.name or (summary or {}).get("title") or "",
        "description": activity.description,
        "external_id": activity.external_id or None,
        "format": activity.format,
        "status": activity.state,
        "error": activity.error_message or None,
        "error_code": activity.error_code or None,
        **fields,
        "versions": {name: r.version for name, r in rows.items()},
        "progress": progress(rows, held),
        "created_at": iso(activity.created_at),
        "processed_at": iso(activity.processed_at),
        "gear_id": activity.gear_id,
        # 0: the original as decoded; more: edited (crop, split...; the revisions API).
        "revision": activity.revision,
        "split_from": activity.split_from_id,
        # The activity this one is probably the same outing as (the one kept).
        "duplicate_of": activity.duplicate_of_id,
        # Merged by its owner into this one (hidden from lists, records, totals...).
        "merged_into": activity.merged_into_id,
        "visibility": activity.visibility,
        **({"share_id": activity.share_id} if activity.share_id else {}),
    }


def progress(rows: dict[str, Derived], held: set[str] | None = None) -> dict[str, bool]:
    """Each deriver, and whether its output is current: at the code's version, or older
    while its rollout is held (in preview, paused, rolled back: what users keep seeing).
    `held` is read here only if an output is older (activities.currency)."""
    if held is None and _has_old(rows):
        held = currency.held()
    return {d.name: d.name in rows and rows[d.name].status == Derived.Status.READY
            and (rows[d.name].version >= d.version or d.name in (held or ()))
            for d in derivers.ALL}


def _has_old(rows: dict[str, Derived]) -> bool:
    return any(d.name in rows and rows[d.name].version < d.version for d in derivers.ALL)


def _derived(activity: Activity) -> dict[str, Derived]:
    # `data` is left out: the track can weigh megabytes; the summary is read on its own.
    return {r.deriver: r for r in Derived.objects.filter(activity=activity).defer("data")}
