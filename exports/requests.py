"""Asking for an export and deleting one: the rows the API writes (the sweep does the
rest), and how an export reads in JSON."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F

from activities.models import Activity
from core.writers import MEDIA_TYPES
from exports.models import Export
from work import clock

FORMATS = tuple(MEDIA_TYPES)
#: What a person sees: a deleted export is gone.
SHOWN = (Export.Status.PENDING, Export.Status.BUILDING, Export.Status.READY,
         Export.Status.FAILED, Export.Status.EXPIRED)
BUILDING = (Export.Status.PENDING, Export.Status.BUILDING)


class Refused(Exception):
    """The request cannot be met: a reason code, a sentence, an HTTP status and, for an
    export already being built, its id."""

    def __init__(self, message: str, *, code: str, status: int, export_id: int | None = None):
        super().__init__(message)
        self.code, self.status, self.export_id = code, status, export_id


def parse(body: object) -> tuple[str, str]:
    """(contents, format) from a POST's JSON, or Refused (400)."""
    if not isinstance(body, dict):
        raise Refused('Send JSON: {"contents": "originals" | "files" | "both", '
                      '"format": "gpx" | "tcx" | "fit"}.', code="BadRequest", status=400)
    unknown = sorted(set(body) - {"contents", "format"})
    if unknown:
        raise Refused(f"Unknown field(s): {', '.join(unknown)}; send contents and format.",
                      code="BadRequest", status=400)
    contents = body.get("contents", Export.Contents.BOTH)
    fmt = body.get("format", "gpx")
    if contents not in Export.Contents.values:
        raise Refused('"contents" must be "originals", "files" or "both".',
                      code="BadRequest", status=400)
    if fmt not in FORMATS:
        raise Refused(f'"format" must be one of {", ".join(FORMATS)} (the regenerated '
                      "files' format).", code="BadRequest", status=400)
    return contents, fmt


def start(owner, *, contents: str, fmt: str) -> Export:
    """A new export of every activity `owner` has now, due at once; Refused (409) while
    another is being built (with its id) or when the owner keeps too many."""
    now = clock.now()
    building = _building(owner)
    if building is not None:
        raise _busy(building)
    kept = Export.objects.filter(owner=owner, status__in=SHOWN).count()
    if kept >= settings.CAIRN_EXPORTS_PER_USER:
        raise Refused(f"You keep {kept} exports, the most allowed "
                      f"({settings.CAIRN_EXPORTS_PER_USER}); delete one first.",
                      code="TooManyExports", status=409)
    live = Activity.objects.live().filter(owner=owner)
    last = live.order_by("-id").values_list("id", flat=True).first() or 0
    try:
        with transaction.atomic():
            return Export.objects.create(
                owner=owner, key=uuid.uuid4().hex, contents=contents, format=fmt,
                last_activity_id=last, total=live.count(), created_at=now, due_at=now,
                pending_since=now)
    except IntegrityError:  # another request started one a moment before
        building = _building(owner)
        if building is None:
            raise
        raise _busy(building) from None


def _building(owner) -> Export | None:
    return Export.objects.filter(owner=owner, status__in=BUILDING).first()


def _busy(export: Export) -> Refused:
    return Refused(f"Export {export.id} is being built ({export.done} of {export.total} "
                   "activities); wait for it, or delete it, before asking for another.",
                   code="ExportInProgress", status=409, export_id=export.id)


def delete(export: Export) -> None:
    """Hidden at once; the sweep deletes its zip (or stops building it), then the row."""
    now = clock.now()
    Export.objects.filter(id=export.id).update(
        status=Export.Status.DELETED, needs_work=True, generation=F("generation") + 1,
        due_at=now, pending_since=now, priority=Export.Priority.FRESH)


def shown(owner):
    return Export.objects.filter(owner=owner, status__in=SHOWN)


def as_dict(export: Export) -> dict:
    ready = export.status == Export.Status.READY
    failed = export.status == Export.Status.FAILED
    return {
        "id": export.id,
        "status": export.status,
        "contents": export.contents,
        "format": export.format,
        "progress": {"done": export.done, "total": export.total},
        "download_url": f"/api/v1/exports/{export.id}/download" if ready else None,
        "size_bytes": export.size_bytes if ready else None,
        "created_at": _time(export.created_at),
        "finished_at": _time(export.finished_at),
        "expires_at": _time(export.expires_at),
        "error": ({"code": export.error_code, "message": export.error_message}
                  if failed else None),
    }


def _time(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
