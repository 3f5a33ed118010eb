"""The privacy page (/settings/privacy/, linked from the account page): the owner's zones
and trims, each change shown before it is saved (how many shared activities and points it
hides), then saved through the same calls as the API. No script needed: a zone's centre
is typed, or taken from the start of one of the owner's activities."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from activities import names
from activities.models import Activity, Derived, Visibility
from core import privacy
from sharing import changes
from sharing.models import Zone
from work import clock

#: Activities offered as a zone's centre (their start).
STARTS = 20


def _starts(user) -> list[dict]:
    """The owner's latest activities with a route: their first point, to put a zone on."""
    shown = list(Activity.objects.live().filter(owner=user).order_by("-id")[:STARTS])
    titles = names.shown_all(shown, names.summaries(shown))
    routes = dict(Derived.objects.filter(activity__in=shown, deriver="route",
                                         data__isnull=False).values_list("activity_id", "data"))
    found = []
    for activity in shown:
        points = json.loads(bytes(routes[activity.id]))["points"] if activity.id in routes else []
        if points:
            found.append({"id": activity.id, "title": titles[activity.id],
                          "lat": points[0][0], "lon": points[0][1]})
    return found


def _page(request: HttpRequest, *, values: dict | None = None, effect=None, error: str = "",
          status: int = 200) -> HttpResponse:
    row = changes.settings_of(request.user.id)
    return render(request, "sharing/privacy.html", {
        "zones": Zone.objects.filter(user=request.user).order_by("id"),
        "trims": {"trim_start_m": row.trim_start_m, "trim_end_m": row.trim_end_m},
        "default_visibility": row.default_visibility, "visibilities": Visibility.values,
        "values": values or {}, "effect": effect, "error": error,
        "starts": _starts(request.user), "rebuilding": changes.pending(request.user.id),
        "radius": (privacy.RADIUS_MIN_M, privacy.RADIUS_MAX_M), "trim_max": privacy.TRIM_MAX_M,
    }, status=status)


def _number(raw: str):
    try:
        return float(raw)
    except (TypeError, ValueError):
        return raw


@login_required
@require_http_methods(["GET", "POST"])
def privacy_page(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request)
    values = {key: request.POST.get(key, "").strip() for key in
              ("lat", "lon", "radius_m", "start", "trim_start_m", "trim_end_m")}
    saving = request.POST.get("action") == "save"
    if request.POST.get("what") == "default":
        chosen = request.POST.get("default_visibility", "")
        if chosen not in Visibility.values:
            return _page(request, error="Choose private, unlisted or public.", status=400)
        changes.set_default(request.user.id, chosen)
        messages.success(request, f"New uploads will be {chosen} once processed.")
        return redirect("privacy-page")
    try:
        if request.POST.get("what") == "trims":
            trims = changes.parse_trims({k: _number(values[k]) for k in
                                         ("trim_start_m", "trim_end_m") if values[k]})
            if saving:
                changes.set_trims(request.user.id, *trims, now=clock.now())
                messages.success(request, "Trims saved: your shared activities are being "
                                 "updated.")
                return redirect("privacy-page")
            rules = changes.rules_with(request.user.id, trims=trims)
        else:
            if values["start"]:
                start = next((s for s in _starts(request.user)
                              if str(s["id"]) == values["start"]), None)
                if start is None:
                    raise changes.Invalid("Choose one of your activities, or type a centre.")
                values["lat"], values["lon"] = str(start["lat"]), str(start["lon"])
            zone = changes.parse_zone({k: _number(values[k]) for k in ("lat", "lon", "radius_m")})
            if saving:
                changes.add_zone(request.user.id, zone, now=clock.now())
                messages.success(request, "Zone saved: your shared activities are being "
                                 "updated.")
                return redirect("privacy-page")
            rules = changes.rules_with(request.user.id, extra=zone)
    except changes.Invalid as error:
        return _page(request, values=values, error=str(error), status=400)
    return _page(request, values=values, effect=changes.effect(request.user.id, rules))


@login_required
@require_POST
def delete_zone_page(request: HttpRequest, zone_id: int) -> HttpResponse:
    if not changes.delete_zone(request.user.id, zone_id, now=clock.now()):
        raise Http404
    messages.success(request, "Zone deleted.")
    return redirect("privacy-page")
