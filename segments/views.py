"""The segments API (token or session), owner only: each view reads or writes the
signed-in user's own segments and efforts; another user's answer 404."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse

from activities.models import Activity
from activities.views.api import api_error, api_view
from segments import editing, served
from segments.models import Effort, Segment
from work import clock


def _body(request: HttpRequest) -> object:
    try:
        return json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None


def _id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(raw)
    return int(raw)


def _limit(request: HttpRequest) -> int:
    raw = request.GET.get("limit", str(served.LIMIT_DEFAULT))
    if not raw.isdigit() or not 1 <= int(raw) <= served.LIMIT_MAX:
        raise ValueError(f"limit is a whole number from 1 to {served.LIMIT_MAX}.")
    return int(raw)


@api_view("GET", "POST")
def segments_api(request: HttpRequest) -> JsonResponse:
    if request.method == "POST":
        try:
            given, shape = editing.parse(_body(request), owner_id=request.user.id)
        except editing.Invalid as error:
            return api_error("BadRequest", str(error), 400)
        except editing.NoActivity as missing:
            return api_error("NotFound", f"No activity {missing.args[0]}.", 404)
        made = editing.create(request.user, given, shape, now=clock.now())
        return JsonResponse(served.segment(made), status=201)
    try:
        limit = _limit(request)
        after = _id(request.GET["cursor"]) if "cursor" in request.GET else None
    except ValueError as error:
        message = str(error) if "limit" in str(error) else "cursor is the one a page gave."
        return api_error("BadRequest", message, 400)
    rows = Segment.objects.filter(owner=request.user).defer("points").order_by("-id")
    if after is not None:
        rows = rows.filter(id__lt=after)
    page = list(rows[:limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return JsonResponse({"segments": [served.segment(s, points=False) for s in page],
                         "next": _next(request, str(page[-1].id)) if more else None})


def _next(request: HttpRequest, cursor: str) -> str:
    query = {k: v for k, v in request.GET.items() if k != "cursor"} | {"cursor": cursor}
    return f"{request.path}?{urlencode(query)}"


@api_view("GET", "PATCH", "DELETE")
def segment_api(request: HttpRequest, segment_id: int) -> HttpResponse:
    found = Segment.objects.filter(id=segment_id, owner=request.user).first()
    if found is None:
        return api_error("NotFound", f"No segment {segment_id}.", 404)
    if request.method == "DELETE":
        found.delete()  # its cells and efforts with it; a backfill holding it loses its lease
        return HttpResponse(status=204)
    if request.method == "PATCH":
        body = _body(request)
        if not isinstance(body, dict) or set(body) != {"name"}:
            return api_error("BadRequest", 'Send {"name": "..."}: only the name changes.', 400)
        try:
            found.name = editing.name(body)
        except editing.Invalid as error:
            return api_error("BadRequest", str(error), 400)
        Segment.objects.filter(id=found.id).update(name=found.name)
    return JsonResponse(served.segment(found))


def _page(request: HttpRequest, efforts) -> JsonResponse:
    try:
        limit = _limit(request)
        after = served.parse_cursor(request.GET["cursor"]) if "cursor" in request.GET else None
    except ValueError as error:
        message = str(error) if "limit" in str(error) else "cursor is the one a page gave."
        return api_error("BadRequest", message, 400)
    efforts = efforts.order_by("elapsed_s", "id")
    if after is not None:
        elapsed, effort_id = after
        efforts = efforts.filter(Q(elapsed_s__gt=elapsed) | Q(elapsed_s=elapsed,
                                                              id__gt=effort_id))
    rows = list(served.ranked(efforts).select_related("segment", "activity__upload")
                [:limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return JsonResponse({"efforts": served.efforts(rows),
                         "next": _next(request, served.cursor_of(rows[-1])) if more else None})


@api_view("GET")
def segment_efforts_api(request: HttpRequest, segment_id: int) -> JsonResponse:
    if not Segment.objects.filter(id=segment_id, owner=request.user).exists():
        return api_error("NotFound", f"No segment {segment_id}.", 404)
    return _page(request, Effort.objects.filter(segment_id=segment_id))


@api_view("GET")
def activity_efforts_api(request: HttpRequest, activity_id: int) -> JsonResponse:
    if not Activity.objects.live().filter(id=activity_id, owner=request.user).exists():
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    rows = list(served.ranked(Effort.objects.filter(activity_id=activity_id))
                .select_related("segment", "activity__upload")
                .order_by("start_offset_s", "segment_id", "lap"))
    return JsonResponse({"efforts": served.efforts(rows)})
