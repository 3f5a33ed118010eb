"""The bulk-export API: ask for a zip of every activity, follow its progress, download it
once ready, delete it. Owner-only: another user's export is not found."""

from __future__ import annotations

import json

import structlog
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse

from activities import storage
from activities.views.api import api_error, api_view
from exports import requests
from exports.models import Export

log = structlog.get_logger(__name__)


def owned(request: HttpRequest, export_id: int) -> Export | None:
    return requests.shown(request.user).filter(id=export_id).first()


def refusal(error: requests.Refused) -> JsonResponse:
    body = {"error": {"code": error.code, "message": str(error)}}
    if error.export_id is not None:
        body["error"]["export_id"] = error.export_id
    return JsonResponse(body, status=error.status)


@api_view("GET", "POST")
def collection(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        exports = requests.shown(request.user).order_by("-created_at", "-id")
        return JsonResponse({"exports": [requests.as_dict(e) for e in exports]})
    try:
        body = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return api_error("BadRequest", 'Send JSON: {"contents": "originals" | "files" | '
                         '"both", "format": "gpx" | "tcx" | "fit"}.', 400)
    try:
        contents, fmt = requests.parse(body)
        export = requests.start(request.user, contents=contents, fmt=fmt)
    except requests.Refused as error:
        return refusal(error)
    log.info("export.asked", export_id=export.id, contents=contents, format=fmt,
             total=export.total)
    response = JsonResponse(requests.as_dict(export), status=202)
    response["Location"] = f"/api/v1/exports/{export.id}"
    return response


@api_view("GET", "DELETE")
def detail(request: HttpRequest, export_id: int) -> HttpResponse:
    export = owned(request, export_id)
    if export is None:
        return api_error("NotFound", f"No export {export_id}.", 404)
    if request.method == "DELETE":
        requests.delete(export)
        log.info("export.deleted", export_id=export.id)
        return HttpResponse(status=204)
    return JsonResponse(requests.as_dict(export))


@api_view("GET")
def download(request: HttpRequest, export_id: int) -> HttpResponse:
    export = owned(request, export_id)
    if export is None:
        return api_error("NotFound", f"No export {export_id}.", 404)
    if export.status == Export.Status.EXPIRED:
        return api_error("ExportExpired", f"Export {export_id} expired and its zip was "
                         "deleted; ask for a new one.", 410)
    if export.status != Export.Status.READY:
        return api_error("NotReady", f"Export {export_id} is {export.status} "
                         f"({export.done} of {export.total} activities); download it once "
                         "its status is ready.", 409)
    try:
        handle = default_storage.open(export.file_name, "rb")
    except FileNotFoundError:
        return api_error("ExportMissing", f"Export {export_id}'s zip is missing from "
                         "storage; delete it and ask for a new one.", 410)
    except storage.Unavailable as error:
        response = api_error(error.code, str(error), 503)
        response["Retry-After"] = str(storage.Unavailable.retry_after_s)
        return response
    created = export.created_at.strftime("%Y-%m-%d")
    return FileResponse(handle, as_attachment=True, content_type="application/zip",
                        filename=f"cairn-export-{created}-{export.id}.zip")
