"""A user's records, totals and heatmap: the JSON API (token or session) and the pages.
Owner only: each view reads the signed-in user's own book, nobody else's."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from activities import names, times
from activities.models import Activity
from activities.views.api import api_error, api_view
from activities.views.pages import units_of
from core import heatmap, records
from reconciler import clock
from records import charts, serialize
from records.models import Book, BookAttempt

PERIODS = records.PERIODS


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


@api_view("GET")
def heatmap_api(request: HttpRequest) -> HttpResponse:
    """The PNG (the records page shows it too, through the session)."""
    stored = Book.objects.filter(user=request.user).values_list("heatmap_png",
                                                                flat=True).first()
    response = HttpResponse(bytes(stored) if stored else heatmap.png(None),
                            content_type="image/png")
    response["Cache-Control"] = "private, no-cache"
    return response


@login_required
def records_page(request: HttpRequest) -> HttpResponse:
    book = _book(request.user)
    return render(request, "records/records.html", {
        "records": _shown(request.user, serialize.record_list(book)),
        "state": serialize.state(book), "units": units_of(request.user)})


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


@login_required
def totals_page(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "week")
    if period not in PERIODS:
        period = "week"
    book = _book(request.user)
    totals = serialize.total_list(book, period)
    return render(request, "records/totals.html", {
        "period": period, "periods": PERIODS, "totals": totals, "units": units_of(request.user),
        "chart": charts.bars(totals), "state": serialize.state(book)})


def _timeline(book: Book | None) -> dict:
    attempts = BookAttempt.objects.filter(book=book).order_by("started_at", "id") if book else []
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
