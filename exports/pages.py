"""The export page (/settings/export/, linked from the account page): ask for a zip of all
one's activities, see its progress, download it, delete it. The same rows as the API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from activities.models import Profile
from exports import requests
from exports.models import Export

#: What each status reads as on the page.
SAID = {Export.Status.PENDING: "Waiting to start", Export.Status.BUILDING: "Being built",
        Export.Status.READY: "Ready", Export.Status.FAILED: "Failed",
        Export.Status.EXPIRED: "Expired (its zip was deleted)"}
CONTENTS = {Export.Contents.BOTH: "Original files and regenerated files",
            Export.Contents.ORIGINALS: "Original files only",
            Export.Contents.FILES: "Regenerated files only"}


def _page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    profile = Profile.objects.filter(user=request.user).first()
    exports = [{"export": e, "said": SAID.get(e.status, e.status),
                "contents": CONTENTS.get(e.contents, e.contents),
                "building": e.status in requests.BUILDING}
               for e in requests.shown(request.user).order_by("-created_at", "-id")]
    return render(request, "exports/export.html", {
        "exports": exports, "error": error, "contents": CONTENTS, "formats": requests.FORMATS,
        "building": any(e["building"] for e in exports),
        "keep_days": settings.CAIRN_EXPORT_KEEP_DAYS,
        "units": profile.units if profile else "metric"}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def export_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    try:
        contents, fmt = requests.parse({"contents": request.POST.get("contents", ""),
                                        "format": request.POST.get("format", "gpx")})
        requests.start(request.user, contents=contents, fmt=fmt)
    except requests.Refused as error:
        return _page(request, error=str(error), status=error.status)
    messages.success(request, "Your export is being built; reload this page to follow it.")
    return redirect("export-page")


@login_required
@require_POST
def delete_export(request: HttpRequest, export_id: int) -> HttpResponse:
    export = requests.shown(request.user).filter(id=export_id).first()
    if export is None:
        raise Http404
    requests.delete(export)
    messages.success(request, "The export was deleted.")
    return redirect("export-page")
