"""The sharing API: an owner's privacy zones and trims (owner-only), and what anyone with
a link may read of a shared activity (`/api/v1/shared/<share_id>...`: no token needed)."""

from __future__ import annotations

import json

import structlog
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from activities import names, serialize
from activities.views.api import api_error, api_view
from core import track as tracks
from core.writers import MEDIA_TYPES, Meta, WriteError, write
from sharing import changes, served
from sharing.models import Zone
from work import clock

log = structlog.get_logger(__name__)

#: The activity JSON's fields others may read (the owner's own fields are left out: ids,
#: upload, errors, versions, gear, point counts...); `bbox` is the copy's.
PUBLIC_FIELDS = ("name", "description", "sport", "sub_sport", "start_time", "timezone",
                 "distance_m", "elapsed_s", "moving_s", "ascent_m", "descent_m",
                 "avg_speed_mps", "max_speed_mps", "avg_hr_bpm", "max_hr_bpm",
                 "avg_power_w", "max_power_w", "avg_cadence", "parts", "visibility",
                 "share_id")


def _body(request: HttpRequest):
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


@api_view("GET", "POST")
def zones(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        rows = Zone.objects.filter(user=request.user).order_by("id")
        return JsonResponse({"zones": [changes.zone_dict(z) for z in rows]})
    try:
        zone = changes.parse_zone(_body(request))
    except changes.Invalid as error:
        return api_error("BadRequest", str(error), 400)
    row = changes.add_zone(request.user.id, zone, now=clock.now())
    log.info("privacy.zone_added", zone_id=row.id, radius_m=row.radius_m)
    return JsonResponse(changes.zone_dict(row), status=201)


@api_view("DELETE")
def zone_detail(request: HttpRequest, zone_id: int) -> HttpResponse:
    if not changes.delete_zone(request.user.id, zone_id, now=clock.now()):
        return api_error("NotFound", f"No privacy zone {zone_id}.", 404)
    log.info("privacy.zone_deleted", zone_id=zone_id)
    return HttpResponse(status=204)


def _privacy_dict(user_id: int) -> dict:
    row = changes.settings_of(user_id)
    zones = Zone.objects.filter(user_id=user_id).order_by("id")
    return {"trim_start_m": row.trim_start_m, "trim_end_m": row.trim_end_m,
            "default_visibility": row.default_visibility, "version": row.version,
            "zones": [changes.zone_dict(z) for z in zones],
            "rebuilding": changes.pending(user_id)}


@api_view("GET", "PATCH")
def privacy_settings(request: HttpRequest) -> JsonResponse:
    if request.method == "PATCH":
        body = _body(request)
        try:
            start, end = changes.parse_trims(body, default=True)
        except changes.Invalid as error:
            return api_error("BadRequest", str(error), 400)
        if "default_visibility" in body:
            changes.set_default(request.user.id, body["default_visibility"])
        if start is not None or end is not None:
            changes.set_trims(request.user.id, start, end, now=clock.now())
            log.info("privacy.trims_set", trim_start_m=start, trim_end_m=end)
    return JsonResponse(_privacy_dict(request.user.id))


@api_view("POST")
def privacy_effect(request: HttpRequest) -> JsonResponse:
    """What a zone to add, or new trims, would hide of the owner's shared activities
    (nothing is saved): `{"zone": {...}}` or `{"trim_start_m", "trim_end_m"}`."""
    body = _body(request)
    try:
        if isinstance(body, dict) and "zone" in body:
            rules = changes.rules_with(request.user.id, extra=changes.parse_zone(body["zone"]))
        else:
            rules = changes.rules_with(request.user.id, trims=changes.parse_trims(body))
    except changes.Invalid as error:
        return api_error("BadRequest", str(error), 400)
    found = changes.effect(request.user.id, rules)
    return JsonResponse({"activities": found.activities, "points": found.points,
                         "shared": found.shared})


# --- what others read ------------------------------------------------------------------

def missing_or_updating(share_id: str) -> JsonResponse:
    """No current copy: 404 if the link is not shared, else 503 while it is rebuilt."""
    if served.shared(share_id) is None:
        return api_error("NotFound", "No shared activity here.", 404)
    return being_updated("This shared activity", share_id=share_id)


def being_updated(what: str, **context) -> JsonResponse:
    """503 with Retry-After: a public copy is being rebuilt (a privacy change, an edit).
    An expected state, not a server error: it is logged at info as sharing.being_updated,
    and Django's request log, which writes every 5xx as an error, is told it was logged,
    so that an operator's error search finds failures only."""
    response = api_error("BeingUpdated", f"{what} is being updated; try again in a few "
                         "seconds.", 503)
    response["Retry-After"] = str(served.RETRY_AFTER_S)
    response._has_been_logged = True  # django.utils.log.log_response skips it
    log.info("sharing.being_updated", **context)
    return response


def _public(response: HttpResponse) -> HttpResponse:
    # Never kept by a cache: a privacy change must take effect at the next read.
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def public_dict(activity, copy: dict) -> dict:
    shown = serialize.activity_dict(activity)
    shown["name"] = names.name_of(activity)
    return {**{key: shown.get(key) for key in PUBLIC_FIELDS}, "bbox": copy["bbox"]}


@require_GET
def shared_detail(request: HttpRequest, share_id: str) -> HttpResponse:
    copy = served.current(share_id, "bbox")
    activity = served.shared(share_id) if copy else None
    if copy is None or activity is None or activity.id != copy["activity_id"]:
        return _public(missing_or_updating(share_id))
    return _public(JsonResponse(public_dict(activity, copy)))


#: The shared outputs, the copy's field and content type.
OUTPUTS = {"route": ("route", "application/json"), "playback": ("playback", "application/json"),
           "charts": ("charts", "application/json"), "preview": ("preview", "image/svg+xml")}


@require_GET
def shared_output(request: HttpRequest, share_id: str, kind: str) -> HttpResponse:
    field, content_type = OUTPUTS[kind]
    copy = served.current(share_id, field)
    if copy is None:
        return _public(missing_or_updating(share_id))
    if copy[field] is None:
        return _public(api_error("NotAvailable", f"This activity shares no {kind}.", 404))
    response = HttpResponse(bytes(copy[field]), content_type=content_type)
    if kind == "preview":
        response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return _public(response)


@require_GET
def shared_export(request: HttpRequest, share_id: str) -> HttpResponse:
    """The shared track as GPX (zones and trims cut out: one segment per stretch)."""
    copy = served.current(share_id, "track")
    activity = served.shared(share_id) if copy else None
    if copy is None or activity is None or copy["track"] is None:
        return _public(missing_or_updating(share_id))
    meta = Meta(name=names.name_of(activity), sport=activity.shown_sport,
                description=activity.description)
    try:
        data = write(tracks.decode(bytes(copy["track"])), meta, "gpx")
    except WriteError as error:
        return _public(api_error("CannotExport", str(error), 422))
    response = HttpResponse(data, content_type=MEDIA_TYPES["gpx"])
    response["Content-Disposition"] = f'attachment; filename="shared-{share_id}.gpx"'
    response["X-Content-Type-Options"] = "nosniff"
    return _public(response)
