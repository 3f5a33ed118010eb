"""The JSON API (v1): uploads and activities, token-authenticated, owner-only."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

import structlog
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from activities import (
    bodylimit,
    deletion,
    downloads,
    edits,
    exporting,
    ingest,
    listing,
    names,
    serialize,
    storage,
    tokens,
)
from activities.models import Activity, Derived, Upload
from core.errors import DeriveError
from core.writers import MEDIA_TYPES, WriteError
from work import clock

log = structlog.get_logger(__name__)

_SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_csrf = CsrfViewMiddleware(lambda request: None)


def api_error(code: str, message: str, status: int) -> JsonResponse:
    response = JsonResponse({"error": {"code": code, "message": message}}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="cairn"'
    return response


def api_view(*methods: str) -> Callable:
    """Token auth, allowed methods and JSON errors for an API view."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt  # token-authenticated: no cookies, so no cross-site forgery
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if request.method not in methods:
                response = api_error("MethodNotAllowed",
                                     f"Use {' or '.join(methods)} on this URL.", 405)
                response["Allow"] = ", ".join(methods)
                return response
            refusal = _authenticate(request)
            if refusal is not None:
                return refusal
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def _authenticate(request: HttpRequest) -> JsonResponse | None:
    """A bearer token, or the browser's session (the pages call the API too); None when
    the request may go on."""
    header = request.headers.get("Authorization", "")
    if not header and request.user.is_authenticated:
        # A session travels in a cookie, so writes need the CSRF token as forms do; in
        # the header only, so that no body is read before the request is allowed.
        if request.method not in _SAFE_METHODS and (
                not request.headers.get("X-CSRFToken")
                or _csrf.process_view(request, None, (), {})):
            return api_error("CsrfFailed", "Send the CSRF token in the X-CSRFToken header.",
                             403)
        return None
    scheme, _, token = header.partition(" ")
    user = tokens.authenticate(token.strip()) if scheme.lower() == "bearer" else None
    if user is None:
        return api_error("Unauthorized",
                         "Send a valid API token: 'Authorization: Bearer <token>'.", 401)
    request.user = user
    return None


@bodylimit.streams_body  # read after the token and size checks
@api_view("POST")
def uploads(request: HttpRequest) -> JsonResponse:
    if bodylimit.declared_too_large(request):  # refused before the body is read
        return api_error("TooLarge", bodylimit.too_large_message(), 413)
    try:
        upload_file = request.FILES.get("file")
    except (MultiPartParserError, UnreadablePostError) as error:
        return api_error("BadRequest", f"The multipart body could not be read: {error}", 400)
    if bodylimit.stopped(request):
        return api_error("TooLarge", bodylimit.too_large_message(), 413)
    if upload_file is None:
        return api_error("BadRequest", "Send the activity file in a multipart field "
                         "named 'file'.", 400)
    try:
        details = ingest.Details(name=request.POST.get("name", ""),
                                 external_id=request.POST.get("external_id", ""),
                                 description=request.POST.get("description", ""))
        accepted = accept_upload(upload_file, owner=request.user, details=details,
                                 idempotency_key=request.headers.get("Idempotency-Key"))
    except ingest.Rejected as error:
        response = api_error(error.code, str(error), error.status)
        if error.retry_after_s is not None:
            response["Retry-After"] = str(error.retry_after_s)
        return response
    duplicate = not accepted.created and not accepted.replayed
    body = serialize.upload_dict(accepted.upload, accepted.activity, duplicate=duplicate,
                                 nothing_derived=accepted.nothing_derived)
    return JsonResponse(body, status=202)


def accept_upload(upload_file: UploadedFile, *, owner,
                  details: ingest.Details = ingest.NO_DETAILS,
                  idempotency_key: str | None = None) -> ingest.Accepted:
    """An uploaded file, whichever it is (ingest.accept_file chooses)."""
    return ingest.accept_file(upload_file, owner=owner, original_name=upload_file.name or "",
                              details=details, idempotency_key=idempotency_key or None)


@api_view("GET")
def upload_detail(request: HttpRequest, upload_id: int) -> JsonResponse:
    upload = Upload.objects.filter(id=upload_id, owner=request.user,
                                   deleted_at__isnull=True).first()
    if upload is None:
        return api_error("NotFound", f"No upload {upload_id}.", 404)
    return JsonResponse(serialize.upload_dict(upload))


@api_view("GET")
def upload_files(request: HttpRequest, upload_id: int) -> JsonResponse:
    """What became of each file of an archive upload, a page at a time."""
    upload = Upload.objects.filter(id=upload_id, owner=request.user,
                                   kind=Upload.Kind.ARCHIVE).first()
    if upload is None:
        return api_error("NotFound", f"No archive upload {upload_id}.", 404)
    try:
        offset = int(request.GET.get("offset", 0))
        limit = int(request.GET.get("limit", 100))
    except ValueError:
        offset = limit = -1
    if not (0 <= offset <= 10**9 and 1 <= limit <= 1000):
        return api_error("BadRequest", "offset is a whole number from 0 to 10^9, limit one "
                         "from 1 to 1000.", 400)
    members = list(upload.archive.members.order_by("index", "within")[
        offset:offset + limit + 1])
    deleted = frozenset(Activity.objects.filter(
        id__in={m.activity_id for m in members if m.activity_id},
        deleted_at__isnull=False).values_list("id", flat=True))
    return JsonResponse({
        "files": [serialize.member_dict(m, deleted) for m in members[:limit]],
        "next_offset": offset + limit if len(members) > limit else None,
    })


@api_view("GET")
def activity_list(request: HttpRequest) -> JsonResponse:
    """The owner's activities, newest start first, a keyset page at a time."""
    try:
        query = listing.parse(request.GET)
        listing.check_sport(request.user.id, query)
    except listing.BadQuery as error:
        return api_error("BadRequest", str(error), 400)
    activities, cursor = listing.page(request.user.id, query)
    following = None
    if cursor is not None:
        params = request.GET.copy()
        params["cursor"] = cursor
        following = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
    return JsonResponse({"activities": serialize.activity_dicts(activities),
                         "next": following})


def owned(request: HttpRequest, activity_id: int) -> Activity | None:
    """The request's user's live activity of this id, or None (another's, deleted or no
    such one: all answered 404 alike)."""
    return Activity.objects.live().filter(id=activity_id, owner=request.user).first()


@api_view("GET", "PATCH", "DELETE")
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = owned(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    if request.method == "DELETE":
        deletion.request(Activity.objects.filter(id=activity.id), now=clock.now())
        return HttpResponse(status=204)
    if request.method == "PATCH":
        try:
            edits.apply(activity, edits.parse(request.body))
        except edits.Invalid as error:
            return api_error("BadRequest", str(error), 400)
        log.info("activity.edited", activity_id=activity.id)
    return JsonResponse(serialize.activity_dict(activity))


#: Content types of originals, by format (a gzipped one is application/gzip).
ORIGINAL_TYPES = {"fit": "application/vnd.ant.fit", "gpx": "application/gpx+xml",
                  "tcx": "application/vnd.garmin.tcx+xml"}


@api_view("GET")
def activity_original(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The file exactly as uploaded (a gzipped one stays gzipped)."""
    activity = owned(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    try:
        data = storage.read_original(activity.file_name)
    except DeriveError as error:
        if error.permanent:
            return api_error(error.code, str(error), 404)
        response = api_error(error.code, str(error), 503)
        response["Retry-After"] = str(storage.Unavailable.retry_after_s)
        return response
    gzipped = activity.file_name.endswith(".gz")
    content_type = "application/gzip" if gzipped else ORIGINAL_TYPES.get(
        activity.format, "application/octet-stream")
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = downloads.attachment(
        names.download_stem(names.name_of(activity)), fallback=f"activity-{activity.id}",
        suffix=f".{activity.format}{'.gz' if gzipped else ''}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


@api_view("GET")
def activity_export(request: HttpRequest, activity_id: int) -> HttpResponse:
    """The activity written anew as GPX, TCX or FIT (`?format=`), with the name, sport and
    description its owner gave it."""
    activity = owned(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    fmt = request.GET.get("format", "gpx").lower()
    if fmt not in exporting.FORMATS:
        return api_error("BadFormat", f"There is no {fmt!r} format: choose "
                         f"{', '.join(exporting.FORMATS)}.", 400)
    try:
        data = exporting.exported(activity, fmt)
    except exporting.NotReady:
        return api_error("NotReady", f"Activity {activity_id} has no track to export (it "
                         f"is {activity.state}).", 404)
    except WriteError as error:
        return api_error("CannotExport", str(error), 422)
    response = HttpResponse(data, content_type=MEDIA_TYPES[fmt])
    response["Content-Disposition"] = downloads.attachment(
        names.download_stem(names.name_of(activity)), fallback=f"activity-{activity.id}",
        suffix=f".{fmt}")
    response["X-Content-Type-Options"] = "nosniff"
    return response


#: Derived outputs the API serves as they are stored, and their content types.
OUTPUTS = {"route": "application/json", "playback": "application/json",
           "charts": "application/json", "preview": "image/svg+xml"}


@api_view("GET")
def activity_output(request: HttpRequest, activity_id: int, kind: str) -> HttpResponse:
    """An output exactly as stored (no re-encoding), with an ETag from its content so that
    lists of previews are not fetched twice, nor after a rebuild that changed nothing."""
    activity = owned(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    row = (Derived.objects.filter(activity=activity, deriver=kind, data__isnull=False)
           .exclude(status=Derived.Status.FAILED).first())
    if row is None:
        return api_error("NotReady", f"The {kind} of activity {activity_id} is not ready "
                         f"(the activity is {activity.state}).", 404)
    etag = row.etag()
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(bytes(row.data), content_type=OUTPUTS[kind])
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    if kind == "preview":
        # An SVG opened on its own is a document: it may not run anything.
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return response

