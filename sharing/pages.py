"""The pages others may see: a shared activity (/s/<share_id>/) and an owner's public
profile (/u/<username>/) with its heatmap (/u/<username>/heatmap.png). No login; a
private or unknown one is a 404."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.paginator import Paginator
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from activities import display, names, times
from activities.models import Activity, Visibility
from activities.views.api import api_error
from core import heatmap
from sharing import served, views

PAGE_SIZE = 20


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def shared_page(request: HttpRequest, share_id: str) -> HttpResponse:
    copy = served.current(share_id, "bbox")
    activity = served.shared(share_id)
    if activity is None:
        raise Http404("No shared activity here.")
    if copy is None or copy["activity_id"] != activity.id:
        # Being updated (a privacy change, or just shared): a short notice, never the old.
        response = render(request, "sharing/updating.html", status=503)
        response["Retry-After"] = str(served.RETRY_AFTER_S)
        return _private(response)
    shown = views.public_dict(activity, copy)
    units = "metric"
    base = reverse("shared-detail", args=[share_id])
    config = {"id": None, "base": base, "settled": True, "units": units,
              "sport": shown["sport"], "pace": display.is_pace_sport(shown["sport"]),
              "tiles": settings.CAIRN_MAP_TILES, "attribution": settings.CAIRN_MAP_ATTRIBUTION}
    return _private(render(request, "sharing/shared.html", {
        "activity": shown, "name": shown["name"], "config": config,
        "facts": display.facts(shown, units), "share_id": share_id,
        "when": times.moment(shown["start_time"], shown.get("timezone"), None),
        "preview_url": f"{base}/preview.svg", "export_url": f"{base}/export",
    }))


#: A region's number as the heatmap's links write it (ASCII digits; "²" is a digit too).
_NUMBER = re.compile(r"[0-9]{1,6}")


def _owner(username: str):
    owner = get_user_model().objects.filter(username=username, is_active=True).first()
    if owner is None:
        raise Http404("No such profile.")
    return owner


def _shown_publicly(owner):
    # Counted, as the owner's own list: one merged into another is not listed twice.
    return Activity.objects.counted().filter(owner=owner, visibility=Visibility.PUBLIC)


def _region(request: HttpRequest, regions: int) -> int:
    chosen = request.GET.get("region", "0")
    return int(chosen) if _NUMBER.fullmatch(chosen) and int(chosen) < regions else 0


@require_GET
def heatmap_png(request: HttpRequest, username: str) -> HttpResponse:
    """The public heatmap's PNG, of the region with the most routes or of `region`; 404
    for a private or unknown profile, 503 (Retry-After) while it is drawn again."""
    owner = _owner(username)
    region = request.GET.get("region", "0")
    if not _NUMBER.fullmatch(region):
        return _private(api_error("BadRequest", "region is a number: 0, 1, …", 400))
    if not _shown_publicly(owner).exists():
        return _private(api_error("NotFound", "No public heatmap here.", 404))
    current, heat, _ = served.heat(owner.id)
    if not current:
        return _private(views.being_updated("This heatmap", owner_id=owner.id))
    if heat is None or int(region) >= len(heat.regions):
        return _private(api_error("NotFound", "No such region in this heatmap.", 404))
    return _private(HttpResponse(heatmap.png(heat, int(region)),
                                      content_type="image/png"))


def _heat_context(request: HttpRequest, owner) -> dict:
    """What the profile shows of the heatmap: the image of one region, or a notice while
    it is drawn again (never an old one), or nothing."""
    current, heat, row = served.heat(owner.id)
    if not current:  # drawn again after a change, or not drawn yet
        return {"heat_updating": True}
    regions = heat.ordered() if heat else []
    if not regions:
        return {}
    index = _region(request, len(regions))
    places = [{"place": heatmap.place(r.bounds), "routes": r.routes} for r in regions]
    image = (f"{reverse('public-heatmap', args=[owner.username])}?region={index}"
             f"&built={int(row.built_at.timestamp())}")
    return {"heat_image": image, "heat_regions": places, "heat_index": index,
            "heat_place": places[index]["place"], "heat_most": regions[index].most}


@require_GET
def profile_page(request: HttpRequest, username: str) -> HttpResponse:
    owner = _owner(username)
    public = _shown_publicly(owner).order_by(Coalesce("start_time", "created_at").desc(),
                                             "-id")
    page = Paginator(public, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    titles = names.shown_all(shown, names.summaries(shown))
    rows = [{"title": titles[a.id], "share_id": a.share_id, "start_time": a.start_time,
             "sport": a.shown_sport} for a in shown]
    context = {"owner": owner.username, "page": page, "rows": rows}
    if rows:  # a private profile shows no heatmap
        context.update(_heat_context(request, owner))
    return _private(render(request, "sharing/profile.html", context))
