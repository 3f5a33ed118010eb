"""Strava-compatible uploads (v3): POST/GET /api/v3/uploads, GET /api/v3/activities/<id> and
GET /api/v3/athlete/activities,
answering as Strava's documented API does, faults included."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps

from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.http import HttpRequest, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from activities import bodylimit, ingest, strava, tokens, zips
from activities.models import Activity, Upload
from activities.views.api import accept_upload

_TRUE = {"1", "true", "yes", "on"}


def fault(message: str, *, resource: str, field: str, code: str, status: int) -> JsonResponse:
    """Strava's error shape: a message and a list of (resource, field, code)."""
    return JsonResponse({"message": message,
                         "errors": [{"resource": resource, "field": field, "code": code}]},
                        status=status)


def strava_view(*methods: str) -> Callable:
    """Token from a Bearer header or the `access_token` query parameter, checked before
    anything reads the body (so not from a form field); Strava's faults."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt  # token-authenticated: no cookies, so no cross-site forgery
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                return fault("Method Not Allowed", resource="Application", field="method",
                             code="invalid", status=405)
            scheme, _, bearer = request.headers.get("Authorization", "").partition(" ")
            token = (bearer.strip() if scheme.lower() == "bearer" else None) or \
                request.GET.get("access_token", "")
            user = tokens.authenticate(token)
            if user is None:
                return fault("Authorization Error", resource="Athlete",
                             field="access_token", code="invalid", status=401)
            request.user = user
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _field(request: HttpRequest, name: str) -> str:
    return request.POST.get(name) or request.GET.get(name) or ""


def _too_large() -> JsonResponse:
    return fault("Payload Too Large", resource="Upload", field="file",
                 code=f"too large: {bodylimit.too_large_message()}", status=413)


@bodylimit.streams_body  # read after the token and size checks
@strava_view("POST")
def uploads(request: HttpRequest) -> JsonResponse:
    if bodylimit.declared_too_large(request):  # refused before the body is read
        return _too_large()
    try:
        upload_file = request.FILES.get("file")
    except (MultiPartParserError, UnreadablePostError):  # the client stopped sending
        upload_file = None
    if bodylimit.stopped(request):
        return _too_large()
    if upload_file is None:
        return fault("Bad Request", resource="Upload", field="file", code="empty", status=400)
    # data_type (fit, gpx, tcx, each optionally .gz) is not needed: the bytes say it.
    if zips.is_zip(upload_file):
        return fault("Bad Request", resource="Upload", field="file",
                     code="invalid: upload the files inside the archive", status=400)
    details = ingest.Details(name=_field(request, "name"),
                             external_id=_field(request, "external_id"),
                             description=_field(request, "description"),
                             trainer=_field(request, "trainer").lower() in _TRUE,
                             commute=_field(request, "commute").lower() in _TRUE)
    try:
        accepted = accept_upload(upload_file, owner=request.user, details=details)
    except ingest.Rejected as error:
        if error.retry_after_s is None:
            return fault("Bad Request", resource="Upload", field="file",
                         code=f"{error.code}: {error}", status=400)
        # Over the rate or busy: as Strava says it, and as the v1 API does.
        response = fault("Rate Limit Exceeded", resource="Application", field="rate limit",
                         code=f"{error.code}: {error}", status=error.status)
        response["Retry-After"] = str(error.retry_after_s)
        return response
    error = None
    if not accepted.created and not accepted.replayed:
        # As Strava reports a duplicate: an error naming the existing activity.
        name = upload_file.name or "file"
        error = f"{name} duplicate of activity {accepted.activity.id}"
    return JsonResponse(strava.upload_dict(accepted.upload, error=error), status=201)


@strava_view("GET")
def upload_detail(request: HttpRequest, upload_id: int) -> JsonResponse:
    upload = Upload.objects.filter(id=upload_id, owner=request.user,
                                   kind=Upload.Kind.FILE, deleted_at__isnull=True).first()
    if upload is None:
        return fault("Record Not Found", resource="Upload", field="id", code="invalid",
                     status=404)
    return JsonResponse(strava.upload_dict(upload))


@strava_view("GET")
def activity_detail(request: HttpRequest, activity_id: int) -> JsonResponse:
    # Strava shows an activity once it exists, that is once processing made it.
    activity = _shown(request).filter(id=activity_id).first()
    if activity is None:
        return fault("Record Not Found", resource="Activity", field="id", code="invalid",
                     status=404)
    return JsonResponse(strava.activity_dict(activity))


def _shown(request: HttpRequest, *, listed: bool = False) -> QuerySet[Activity]:
    """The activities Strava would show this athlete: live ones, once processing made
    them (ready); `listed`: those that count (a merged one is read by its id only)."""
    found = Activity.objects.counted() if listed else Activity.objects.live()
    return found.filter(owner=request.user, status=Activity.Status.READY)


@strava_view("GET")
def athlete_activities(request: HttpRequest) -> JsonResponse:
    """SummaryActivity pages as Strava lists them: `before`/`after` are epoch seconds of
    the start, `page` counts from 1 and `per_page` is at most 200 (Strava's paging by
    page number, so an OFFSET; newest first, oldest first when only `after` is given)."""
    try:
        page = int(request.GET.get("page") or 1)
        per_page = int(request.GET.get("per_page") or 30)
        before = _epoch(request.GET.get("before"))
        after = _epoch(request.GET.get("after"))
    except (ValueError, OverflowError, OSError):
        page = per_page = 0
    if not (1 <= page <= 10**6 and 1 <= per_page <= 200):
        return fault("Bad Request", resource="Application", field="page",
                     code="invalid: page >= 1, 1 <= per_page <= 200, before and after in "
                          "epoch seconds", status=400)
    started = Coalesce("start_time", "created_at")
    shown = _shown(request, listed=True).alias(started=started)
    if before is not None:
        shown = shown.filter(started__lt=before)
    if after is not None:
        shown = shown.filter(started__gt=after)
    order = ("started", "id") if after is not None and before is None else ("-started", "-id")
    rows = list(shown.order_by(*order)[(page - 1) * per_page: page * per_page])
    return JsonResponse(strava.activity_dicts(rows, detailed=False), safe=False)


def _epoch(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromtimestamp(float(value), tz=UTC)
