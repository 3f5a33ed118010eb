"""Browser pages for signed-in users: upload, upload status, the activity list and page,
and settings. Each works without JavaScript; the scripts in static/activities/ add live
progress, the route, the charts and the playback on top, through the JSON API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from activities import (
    archives,
    bodylimit,
    breakdown,
    deletion,
    display,
    ingest,
    maxhr,
    names,
    panels,
    problems,
    revisions,
    serialize,
    sports,
    times,
)
from activities.models import Activity, Derived, Profile, Upload
from activities.views import api
from work import clock

#: Activities per page of the list: each brings a preview image.
PAGE_SIZE = 20
#: Statuses after which an activity only changes when someone asks (reprocess, re-sync).
SETTLED = {"ready", "failed", "dead"}
_csrf = CsrfViewMiddleware(lambda request: None)


def units_of(user) -> str:
    """The user's units; metric until they choose (the profile is made by the settings page)."""
    chosen = Profile.objects.filter(user=user).values_list("units", flat=True).first()
    return chosen or Profile.Units.METRIC


@bodylimit.streams_body  # read after the token and size checks
@csrf_exempt  # checked below, once the body may be read (CSRF's check reads it)
@login_required
@require_http_methods(["GET", "POST"])
def upload_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        refusal = _refuse_before_reading(request)
        if refusal is not None:
            return refusal
        files = request.FILES.getlist("file")
        if bodylimit.stopped(request):
            return _too_large(request)
        if not files:
            messages.error(request, "Choose a FIT, GPX or TCX file to upload.")
        else:
            accepted = [a for a in (_accept(request, f, many=len(files) > 1) for f in files) if a]
            if len(files) == 1 and accepted:
                url = reverse("upload-status", args=[accepted[0].upload.id])
                # The status page says so ("Already uploaded — open it").
                return redirect(f"{url}?again=1" if _again(accepted[0]) else url)
            if accepted:
                messages.info(request, f"{len(accepted)} of {len(files)} files uploaded.")
            return redirect("upload-page")
    recent = (Upload.objects.filter(owner=request.user, deleted_at__isnull=True)
              # A session's bytes, once in, are listed as the upload they became.
              .exclude(kind=Upload.Kind.SESSION, session__result__isnull=False)
              .select_related("activity")
              .order_by("-created_at")[:20])
    units = units_of(request.user)
    made = [u.activity for u in recent if u.activity]
    summaries = names.summaries(made)
    shown = names.shown_all(made, summaries)
    rows = [(row := serialize.upload_dict(upload)) | {
        "name": shown.get(upload.activity_id) or names.base_name(upload.original_name),
        "result": _result(row, summaries.get(upload.activity_id), units)} for upload in recent]
    return render(request, "activities/upload.html", {
        "uploads": rows, "units": units,
        "max_mb": ingest.max_upload_bytes() // 2**20,
        "tus_threshold_bytes": settings.CAIRN_TUS_THRESHOLD_MB * 2**20,
    })


def _result(row: dict, summary: dict | None, units: str) -> str:
    """What came of an upload, in words: the reason it failed, or the distance and time of
    the activity it made (never the internal step names)."""
    if row["status"] == "failed":
        return row["problem"] or "Processing failed."
    if row["status"] != "ready" or not summary:
        return ""
    return " · ".join(part for part in (
        display.distance(summary.get("distance_m"), units) if summary.get("distance_m") else "",
        display.duration(summary.get("elapsed_s")) if summary.get("elapsed_s") else "") if part)


def _refuse_before_reading(request: HttpRequest) -> HttpResponse | None:
    """A body too large for any file (413), from its head alone; then the CSRF check,
    which reads the form."""
    if bodylimit.declared_too_large(request):
        return _too_large(request)
    return _csrf.process_view(request, None, (), {})


def _too_large(request: HttpRequest) -> HttpResponse:
    return render(request, "activities/refused.html",
                  {"message": bodylimit.too_large_message()}, status=413)


def _upload_name(upload: Upload) -> str:
    """The activity's name once there is one, else the file's."""
    if upload.activity is not None:
        return names.name_of(upload.activity)
    return names.base_name(upload.original_name)


def _accept(request: HttpRequest, upload_file, *, many: bool) -> ingest.Accepted | None:
    """Ingest one file of the form as the API does (a zip becomes an archive); a refusal
    becomes a message naming the file."""
    prefix = f"{upload_file.name}: " if many else ""
    details = ingest.Details(name="" if many else request.POST.get("name", ""))
    try:
        accepted = api.accept_upload(upload_file, owner=request.user, details=details)
    except ingest.Rejected as error:
        messages.error(request, f"{prefix}{error}")
        return None
    if many and _again(accepted):
        messages.info(request, f"{prefix}Already uploaded.")
    return accepted


def _again(accepted: ingest.Accepted) -> bool:
    """The same file came before (a retry with the same idempotency key is not news)."""
    return not accepted.created and not accepted.replayed


@login_required
def upload_status(request: HttpRequest, upload_id: int) -> HttpResponse:
    upload = (Upload.objects.filter(id=upload_id, owner=request.user, deleted_at__isnull=True)
              .select_related("activity").first())
    if upload is None:
        raise Http404("No such upload.")
    if upload.kind == Upload.Kind.SESSION and upload.session.result_id:
        return redirect("upload-status", upload_id=upload.session.result_id)
    shown = serialize.upload_dict(upload)
    archive = {}
    if upload.kind == Upload.Kind.ARCHIVE:
        archive = {"outcome": display.archive_outcome(shown["progress"],
                                                      finished=shown["status"] == "ready"),
                   "page": archives.files_page(upload.archive, request.GET.get("page"))}
    return render(request, "activities/upload_status.html", {
        "upload": shown, "again": request.GET.get("again") == "1", **archive,
        "activity": (made := serialize.activity_dict(upload.activity) if upload.activity
                     else None),
        "when": made and times.moment(made["start_time"], made.get("timezone"),
                                      times.user_zone(request.user)),
        "name": _upload_name(upload),
        "units": units_of(request.user),
    })


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    # In the order they happened, newest first, as the list API orders them (index
    # activity_owner_list); one not yet summarised (or without times) by its upload time.
    activities = (Activity.objects.counted().filter(owner=request.user).select_related("upload")
                  .order_by(Coalesce("start_time", "created_at").desc(), "-id"))
    page = Paginator(activities, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    summaries = names.summaries(shown)
    titles = names.shown_all(shown, summaries)
    previews = set(_outputs(shown, "preview").values_list("activity_id", flat=True))
    viewer = times.user_zone(request.user)
    rows = [{"activity": a, "summary": (s := summaries.get(a.id, {})),
             "preview": a.id in previews, "title": titles[a.id],
             "sport": sports.name(a.shown_sport or s.get("sport")),
             "when": times.moment(s.get("start_time"), s.get("timezone"), viewer),
             "uploaded": times.moment(a.created_at, None, viewer)}
            for a in shown]
    return render(request, "activities/activity_list.html", {
        "page": page, "rows": rows, "units": units_of(request.user),
    })


def _outputs(activities: list[Activity], deriver: str) -> QuerySet[Derived]:
    """The outputs the API would serve (stale ones keep their data; failed have none)."""
    return (Derived.objects.filter(activity__in=activities, deriver=deriver,
                                   data__isnull=False)
            .exclude(status=Derived.Status.FAILED))


@login_required
def activity_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _owned(request, activity_id)
    units = units_of(request.user)
    summary = serialize.activity_dict(activity)
    config = {
        "id": activity.id, "status": activity.state, "settled": activity.state in SETTLED,
        "units": units, "sport": summary["sport"],
        "pace": display.is_pace_sport(summary["sport"]),
        "tiles": settings.CAIRN_MAP_TILES, "attribution": settings.CAIRN_MAP_ATTRIBUTION,
    }
    output = breakdown.splits_output(activity) if activity.state in SETTLED else None
    # On the activity's day where the owner is (the day its training load uses).
    day = (times.local_date(activity.start_time, None, times.user_zone(request.user))
           if activity.start_time else None)
    max_hr = maxhr.on(request.user.id, day)
    return render(request, "activities/activity.html", {
        "activity": summary, "units": units, "name": names.name_of(activity),
        "when": times.moment(summary["start_time"], summary.get("timezone"),
                             times.user_zone(request.user)), "config": config, "max_hr": max_hr,
        "map_tiles": bool(settings.CAIRN_MAP_TILES),
        "splits": breakdown.split_rows(output, units=units, pace=config["pace"]),
        "laps": breakdown.lap_rows(output, units=units, pace=config["pace"]),
        "zones": breakdown.zone_rows(output, max_hr),
        "has_hr": bool(output and output.get("hr_histogram")),
        "progress": summary["progress"], "facts": display.facts(summary, units),
        "settled": config["settled"], "failed": activity.state in {"failed", "dead"},
        "can_reprocess": activity.error_code not in problems.NOT_ACTIVITIES,
        "gear": activity.gear,  # the owner's, or none (edits.apply checks)
        **_split_parts(activity),
        # Other apps' sections (segments' efforts), named at their start-up.
        "panels": panels.of("activity-page", request, activity_id=activity.id),
    })


def _split_parts(activity: Activity) -> dict:
    """The activity this one was split from, those split from it, the one it is probably
    a duplicate of, the one it was merged into and those merged into it (live ones), as
    the page names them, so that each links the others."""
    parent = Activity.objects.live().filter(id=activity.split_from_id).first()
    parts = list(Activity.objects.live().filter(split_from=activity).order_by("id"))
    twin = Activity.objects.live().filter(id=activity.duplicate_of_id).first()
    primary = Activity.objects.live().filter(id=activity.merged_into_id).first()
    merged = list(Activity.objects.live().filter(merged_into=activity).order_by("id"))
    shown = [a for a in (parent, twin, primary) if a is not None] + parts + merged
    named = names.shown_all(shown, names.summaries(shown))
    return {"split_from": {"id": parent.id, "name": named[parent.id]} if parent else None,
            "split_into": [{"id": part.id, "name": named[part.id]} for part in parts],
            "duplicate_of": {"id": twin.id, "name": named[twin.id]} if twin else None,
            "merged_into": {"id": primary.id, "name": named[primary.id]} if primary else None,
            "merged": [{"id": m.id, "name": named[m.id]} for m in merged],
            "taken": _taken(activity)}


def _taken(activity: Activity) -> str:
    """The streams this activity took from one merged into it, as a sentence names them."""
    return revisions.in_words(((activity.edits or {}).get("take") or {}).get("streams") or [])


def _owned(request: HttpRequest, activity_id: int) -> Activity:
    activity = Activity.objects.live().filter(id=activity_id, owner=request.user).first()
    if activity is None:
        raise Http404("No such activity.")
    return activity


@login_required
@require_http_methods(["GET", "POST"])
def delete_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    """GET asks for confirmation (no script needed); the POST (CSRF-checked) deletes."""
    activity = _owned(request, activity_id)
    if request.method == "POST":
        name = names.name_of(activity)
        deletion.request(Activity.objects.filter(id=activity.id), now=clock.now())
        messages.info(request, f"Deleted {name}.")
        return redirect("activities-page")
    return render(request, "activities/delete.html",
                  {"activity": activity, "name": names.name_of(activity)})
