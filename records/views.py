"""A user's records, totals and heatmap: the JSON API (token or session) and the pages.
Owner only: each view reads the signed-in user's own book, nobody else's."""

from __future__ import annotations

import re
from datetime import date

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse

from activities import names, panels, times
from activities.models import Activity
from activities.views.api import api_error, api_view
from activities.views.pages import units_of
from core import heatmap, records
from records import charts, rebuild, serialize
from records.kind import KIND
from records.models import Book
from work import attempts as work_attempts
from work import clock

PERIODS = records.PERIODS
#: A region's number as the heatmap's links write it (ASCII digits; "²" is a digit too).
_NUMBER = re.compile(r"[0-9]{1,6}")


def _book(user) -> Book | None:
    return Book.objects.filter(user=user).defer("heat").first()


@api_view("GET")
def records_api(request: HttpRequest) -> JsonResponse:
    book = _book(request.user)
    return JsonResponse({"records": serialize.record_list(book), **serialize.state(book)})


@api_view("GET")
def totals_api(request: HttpRequest) -> JsonResponse:
    period = request.GET.get("period", "week")
    if period not in PERIODS:
        return api_error("BadRequest", "period is one of week, month or year.", 400)
    book = _book(request.user)
    return JsonResponse({"period": period, "totals": serialize.total_list(book, period),
                         **serialize.state(book)})


def _heat(user) -> heatmap.Heat | None:
    """The user's heatmap regions, once a book of this code's version holds them."""
    row = Book.objects.filter(user=user).values("heat", "version").first()
    if not row or not row["heat"] or row["version"] != rebuild.VERSION:
        return None
    return heatmap.Heat.loads(bytes(row["heat"]))


@api_view("GET")
def heatmap_api(request: HttpRequest) -> HttpResponse:
    """The PNG of the region with the most routes, or of `region` (0, 1, … in the order the
    heatmap page lists them); the heatmap page shows it too, through the session."""
    region = request.GET.get("region")
    if region is None:
        stored = Book.objects.filter(user=request.user).values_list("heatmap_png",
                                                                    flat=True).first()
        body = bytes(stored) if stored else heatmap.png(None)
    else:
        if not _NUMBER.fullmatch(region):
            return api_error("BadRequest", "region is a number: 0, 1, …", 400)
        heat = _heat(request.user)
        if heat is None or int(region) >= len(heat.regions):
            return api_error("NotFound", "No such region in your heatmap.", 404)
        body = heatmap.png(heat, int(region))
    response = HttpResponse(body, content_type="image/png")
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
def heatmap_page(request: HttpRequest) -> HttpResponse:
    """The heatmap over the map (tiles when CAIRN_MAP_TILES is set), one region at a time,
    the busiest first, framed on where most of its activity is."""
    heat = _heat(request.user)
    regions = heat.ordered() if heat else []
    chosen = request.GET.get("region", "0")
    index = int(chosen) if _NUMBER.fullmatch(chosen) and int(chosen) < len(regions) else 0
    units = units_of(request.user)
    book = _book(request.user)
    context = {"units": units, "state": serialize.state(book),
               "map_tiles": bool(settings.CAIRN_MAP_TILES), "index": index,
               "regions": [{"place": heatmap.place(r.bounds), "routes": r.routes}
                           for r in regions]}
    if regions:
        region = regions[index]
        image = f"{reverse('api-heatmap')}?region={index}"
        if book and book.built_at:
            image += f"&built={int(book.built_at.timestamp())}"
        context.update(region=region, image=image, place=context["regions"][index]["place"],
                       config={
            "tiles": settings.CAIRN_MAP_TILES, "attribution": settings.CAIRN_MAP_ATTRIBUTION,
            "units": units, "image": image, "bounds": region.bounds, "focus": region.focus(),
            "label": f"Heatmap {context['regions'][index]['place']}"})
    return render(request, "records/heatmap.html", context)


@login_required
def records_page(request: HttpRequest) -> HttpResponse:
    book = _book(request.user)
    return render(request, "records/records.html", {
        "records": _shown(request.user, serialize.record_list(book)),
        "state": serialize.state(book), "units": units_of(request.user),
        # Other apps' sections (training's power curve), named at their start-up.
        "panels": panels.of("records-page", request)})


def _shown(user, found: list[dict]) -> list[dict]:
    """Records as the page shows them: each with its activity's name and the day it was
    set, that activity's local date."""
    ids = {r["activity_id"] for r in found}
    activities = list(Activity.objects.live().filter(owner=user, id__in=ids)
                      .select_related("upload"))
    summaries = names.summaries(activities)
    shown = names.shown_all(activities, summaries)
    viewer = times.user_zone(user)
    out = []
    for record in found:
        summary = summaries.get(record["activity_id"], {})
        when = times.moment(record["achieved_at"], summary.get("timezone"), viewer)
        out.append(record | {"name": shown.get(record["activity_id"], ""), "when": when})
    return out


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@login_required
def totals_page(request: HttpRequest) -> HttpResponse:
    """A page of consecutive periods; `end` (any day of the last one) pages back in time. A
    period or day the page cannot read shows the newest weeks instead."""
    period = request.GET.get("period", "week")
    if period not in PERIODS:
        period = "week"
    end = _day(request.GET.get("end"))
    book = _book(request.user)
    units = units_of(request.user)
    chart = charts.page(serialize.total_list(book, period), period, units=units,
                        end=records.period_start(end, period) if end else None)
    return render(request, "records/totals.html", {
        "period": period, "periods": PERIODS, "chart": chart, "units": units,
        "state": serialize.state(book)})


def _timeline(book: Book | None) -> dict:
    attempts = work_attempts.of(KIND.name, book.id) if book else []
    return {**serialize.state(book), "why": serialize.why(book, now=clock.now()),
            "attempts": [serialize.attempt_dict(a) for a in attempts]}


@api_view("GET")
def timeline_api(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_timeline(_book(request.user)))


@login_required
def timeline_page(request: HttpRequest) -> HttpResponse:
    """Staff read the workers and their words; an owner reads what happened, plainly."""
    book = _book(request.user)
    found = _timeline(book)
    staff = request.user.is_staff
    if not staff:
        found["why"] = serialize.why_for_owner(book, now=clock.now())
    viewer = times.user_zone(request.user)
    for attempt in found["attempts"]:
        attempt["shown_outcome"] = (attempt["outcome"] or "running") if staff else (
            serialize.outcome_words(attempt["outcome"]))
        attempt["when"] = times.moment(attempt["started_at"], None, viewer)
    return render(request, "records/timeline.html", {**found, "staff": staff})
