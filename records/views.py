"""A user's records, totals and heatmap: the JSON API (token or session) and the pages.
Owner only: each view reads the signed-in user's own book, nobody else's."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from activities.views.api import api_error, api_view
from core import heatmap, records
from records import charts, serialize
from records.kind import KIND
from records.models import Book
from work import attempts as work_attempts
from work import clock

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
        "records": serialize.record_list(book), "state": serialize.state(book)})


@login_required
def totals_page(request: HttpRequest) -> HttpResponse:
    period = request.GET.get("period", "week")
    if period not in PERIODS:
        period = "week"
    book = _book(request.user)
    totals = serialize.total_list(book, period)
    return render(request, "records/totals.html", {
        "period": period, "periods": PERIODS, "totals": totals,
        "chart": charts.bars(totals), "state": serialize.state(book)})


def _timeline(book: Book | None) -> dict:
    attempts = work_attempts.of(KIND.name, book.id) if book else []
    return {**serialize.state(book), "why": serialize.why(book, now=clock.now()),
            "attempts": [serialize.attempt_dict(a) for a in attempts]}


@api_view("GET")
def timeline_api(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_timeline(_book(request.user)))


@login_required
def timeline_page(request: HttpRequest) -> HttpResponse:
    return render(request, "records/timeline.html", _timeline(_book(request.user)))
