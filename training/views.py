"""The training API (token or session), owner only: each view reads or writes the
signed-in user's own thresholds, gear and book, nobody else's."""

from __future__ import annotations

import json
from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse

from activities.models import Gear
from activities.views.api import api_error, api_view
from training import gear, rebuild, served, thresholds
from training.models import Book, Threshold
from work import clock

#: The fitness range's default length, today included.
DEFAULT_DAYS = 90
RANGES = ("all", "90d")


@api_view("GET", "POST")
def thresholds_api(request: HttpRequest) -> JsonResponse:
    if request.method == "GET":
        rows = Threshold.objects.filter(user=request.user).order_by("kind", "effective")
        return JsonResponse({"thresholds": [thresholds.as_dict(row) for row in rows]})
    try:
        wanted = thresholds.parse(_body(request))
    except thresholds.Invalid as error:
        return api_error("BadRequest", str(error), 400)
    row, created = thresholds.put(request.user.id, wanted, now=clock.now())
    return JsonResponse(thresholds.as_dict(row), status=201 if created else 200)


class BadRange(ValueError):
    """A fitness range that cannot be answered; its message says why."""


def fitness_range(query, today: date) -> tuple[date, date]:
    """The range a query's `from` and `to` ask for (default: the DEFAULT_DAYS days up to
    `to`, itself today by default), or BadRange. The API's and the page's rule."""
    try:
        start, end = _day(query, "from"), _day(query, "to")
        end = end or today
        start = start or end - timedelta(days=DEFAULT_DAYS - 1)
    except (ValueError, OverflowError):  # OverflowError: 90 days before 0001-01-01
        raise BadRange("from and to are dates: YYYY-MM-DD.") from None
    if start > end:
        raise BadRange("from is on or before to.")
    if (end - start).days >= served.MAX_DAYS:
        raise BadRange(f"Ask for at most {served.MAX_DAYS} days at a time.")
    return start, end


def _day(query, name: str) -> date | None:
    """The query's date `name`; ValueError when it is there and no YYYY-MM-DD."""
    raw = query.get(name)
    if raw is None:
        return None
    if len(raw) != 10:
        raise ValueError(raw)
    return date.fromisoformat(raw)


@api_view("GET")
def fitness_api(request: HttpRequest) -> JsonResponse:
    today = rebuild.today_of(request.user.id)
    try:
        start, end = fitness_range(request.GET, today)
    except BadRange as error:
        return api_error("BadRequest", str(error), 400)
    book = Book.objects.filter(user=request.user).first()
    return JsonResponse({"from": start.isoformat(), "to": end.isoformat(),
                         "days": served.days(request.user.id, start, end, today=today),
                         **served.state(book)})


@api_view("GET")
def power_curve_api(request: HttpRequest) -> JsonResponse:
    chosen = request.GET.get("range", "all")
    if chosen not in RANGES:
        return api_error("BadRequest", "range is all or 90d.", 400)
    book = Book.objects.filter(user=request.user).first()
    points = served.curve(request.user.id, book, recent=chosen == "90d",
                          today=rebuild.today_of(request.user.id))
    return JsonResponse({"range": chosen, "points": points, **served.state(book)})


def _body(request: HttpRequest) -> object:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _totals(user) -> tuple[dict, dict]:
    book = Book.objects.filter(user=user).first()
    return (book.gear if book is not None else {}), served.state(book)


@api_view("GET", "POST")
def gear_api(request: HttpRequest) -> JsonResponse:
    totals, state = _totals(request.user)
    if request.method == "GET":
        rows = Gear.objects.filter(owner=request.user).order_by("retired", "id")
        return JsonResponse({"gear": [gear.as_dict(g, totals) for g in rows], **state})
    try:
        fields = gear.parse(_body(request), new=True)
    except gear.Invalid as error:
        return api_error("BadRequest", str(error), 400)
    made = Gear.objects.create(owner=request.user, created_at=clock.now(), **fields)
    return JsonResponse(gear.as_dict(made, totals), status=201)


@api_view("GET", "PATCH", "DELETE")
def gear_detail_api(request: HttpRequest, gear_id: int) -> HttpResponse:
    found = Gear.objects.filter(id=gear_id, owner=request.user).first()
    if found is None:
        return api_error("NotFound", f"No gear {gear_id}.", 404)
    if request.method == "DELETE":
        gear.delete(found, now=clock.now())
        return HttpResponse(status=204)
    if request.method == "PATCH":
        try:
            fields = gear.parse(_body(request), new=False)
        except gear.Invalid as error:
            return api_error("BadRequest", str(error), 400)
        for name, value in fields.items():
            setattr(found, name, value)
        found.save(update_fields=list(fields))
    totals, state = _totals(request.user)
    return JsonResponse(gear.as_dict(found, totals) | state)
