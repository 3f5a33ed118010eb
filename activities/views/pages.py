"""Browser pages: a plain upload form and upload status, for signed-in users."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from activities import ingest, serialize
from activities.models import Upload


@login_required
@require_http_methods(["GET", "POST"])
def upload_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        upload_file = request.FILES.get("file")
        if upload_file is None:
            messages.error(request, "Choose a FIT or GPX file to upload.")
        elif upload_file.size > ingest.max_upload_bytes():
            messages.error(request, "The file is larger than the upload limit.")
        else:
            try:
                accepted = ingest.accept(
                    upload_file.read(), owner=request.user,
                    original_name=upload_file.name or "",
                    details=ingest.Details(name=request.POST.get("name", "")))
            except ingest.Rejected as error:
                messages.error(request, str(error))
            else:
                if not accepted.created:
                    messages.info(request, "You had already uploaded this file.")
                return redirect("upload-status", upload_id=accepted.upload.id)
    recent = (Upload.objects.filter(owner=request.user).prefetch_related("activities")
              .order_by("-created_at")[:20])
    rows = []
    for upload in recent:
        activity = upload.activities.all()[0]
        rows.append(serialize.upload_dict(upload) | {"name": activity.name})
    return render(request, "activities/upload.html", {"uploads": rows})


@login_required
def upload_status(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = Upload.objects.filter(id=upload_id, owner=request.user).first()
    if upload is None:
        raise Http404("No such upload.")
    activity = upload.activities.get()
    return render(request, "activities/upload_status.html", {
        "upload": serialize.upload_dict(upload),
        "activity": serialize.activity_dict(activity),
    })
