"""The pages others may see: a shared activity (/s/<share_id>/) and an owner's public
profile (/u/<username>/). No login; a private or unknown one is a 404."""

from __future__ import annotations

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


@require_GET
def profile_page(request: HttpRequest, username: str) -> HttpResponse:
    owner = get_user_model().objects.filter(username=username, is_active=True).first()
    if owner is None:
        raise Http404("No such profile.")
    # Counted, as the owner's own list: one merged into another is not listed twice.
    public = (Activity.objects.counted().filter(owner=owner, visibility=Visibility.PUBLIC)
              .order_by(Coalesce("start_time", "created_at").desc(), "-id"))
    page = Paginator(public, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    titles = names.shown_all(shown, names.summaries(shown))
    rows = [{"title": titles[a.id], "share_id": a.share_id, "start_time": a.start_time,
             "sport": a.shown_sport} for a in shown]
    return _private(render(request, "sharing/profile.html",
                           {"owner": owner.username, "page": page, "rows": rows}))
