"""The segments' pages (signed in, owner only; another user's segment is a 404): the list,
a segment's page with its efforts, renaming and deleting it, the form on an activity's
page that saves a stretch of it as a segment, and that page's panel of the efforts the
activity holds. Every figure shown is one the API serves (served.py), in the user's units."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from activities import display, times
from activities.models import Activity, Derived
from activities.views.pages import units_of
from core.segments import stretch
from segments import charts, editing, matching, served
from segments.models import Effort, Segment
from work import clock

#: Efforts a segment's page lists and charts, the newest (the API pages them best first).
EFFORTS_SHOWN = 200


def _owned(request: HttpRequest, segment_id: int) -> Segment:
    found = Segment.objects.filter(id=segment_id, owner=request.user).first()
    if found is None:
        raise Http404("No such segment.")
    return found


def _rate(mps: float | None, sport: str | None, units: str) -> str:
    return (display.pace(mps, units) if display.is_pace_sport(sport)
            else display.speed(mps, units))


def _rows(request: HttpRequest, efforts: list[Effort], units: str) -> list[dict]:
    """The efforts as the API serves them, with the words the page shows for them."""
    zone = times.user_zone(request.user)
    sports = {e.id: e.activity.user_sport or e.activity.sport or None for e in efforts}
    out = []
    for e in served.efforts(efforts):
        start = e["start_time"]
        day = (times.local_date(datetime.fromisoformat(start), None, zone) if start else None)
        out.append({**e, "day": day, "day_text": f"{day:%-d %b %Y}" if day else "—",
                    "elapsed": display.duration(e["elapsed_s"]),
                    "moving": display.duration(e["moving_s"]),
                    "rate": _rate(e["average_speed_mps"], sports[e["id"]], units),
                    "hr": "—" if e["average_hr_bpm"] is None
                    else f"{e['average_hr_bpm']:.0f} bpm",
                    "power": "—" if e["average_power_w"] is None
                    else f"{e['average_power_w']:.0f} W"})
    return out


def _efforts(*order: str, limit: int | None = None, **where) -> list[Effort]:
    rows = (served.ranked(Effort.objects.filter(**where))
            .select_related("segment", "activity__upload").order_by(*order))
    return list(rows[:limit] if limit is not None else rows)


@login_required
def segments_page(request: HttpRequest) -> HttpResponse:
    units = units_of(request.user)
    rows = (Segment.objects.filter(owner=request.user).defer("points")
            .annotate(best=Min("efforts__elapsed_s"), count=Count("efforts"))
            .order_by("name", "id"))
    return render(request, "segments/list.html", {"units": units, "segments": [
        {"id": s.id, "name": s.name, "distance": display.distance(s.distance_m, units),
         "ascent": display.elevation(s.ascent_m, units) if s.ascent_m is not None else "—",
         "best": display.duration(s.best) if s.best is not None else "—",
         "count": s.count, "matching": s.needs_work} for s in rows]})


def _segment_context(request: HttpRequest, found: Segment) -> dict:
    units = units_of(request.user)
    shown = served.segment(found)
    # The newest efforts (those a page shows), and the best, as the API's first.
    efforts = _efforts("-activity__start_time", "-start_offset_s", "-id",
                       limit=EFFORTS_SHOWN + 1, segment_id=found.id)
    rows = _rows(request, efforts, units)
    more, rows = len(rows) > EFFORTS_SHOWN, rows[:EFFORTS_SHOWN]
    best = _rows(request, _efforts("elapsed_s", "id", limit=1, segment_id=found.id), units)
    points = found.points
    return {
        "segment": shown, "units": units, "efforts": rows, "more": more,
        "best": best[0] if best else None,
        "count": Effort.objects.filter(segment_id=found.id).count(),
        "distance": display.distance(found.distance_m, units),
        "ascent": display.elevation(found.ascent_m, units) if found.ascent_m is not None
        else None,
        "chart": charts.efforts([(r["day"], r["elapsed_s"]) for r in rows if r["day"]]),
        "profile": charts.elevation(points, found.distance_m, units),
        "drawn": charts.route(points, shown["bbox"]),
        "map_tiles": bool(settings.CAIRN_MAP_TILES),
        "config": {"points": shown["points"], "bbox": shown["bbox"],
                   "label": f"Map of the segment {found.name}",
                   "tiles": settings.CAIRN_MAP_TILES,
                   "attribution": settings.CAIRN_MAP_ATTRIBUTION},
    }


@login_required
def segment_page(request: HttpRequest, segment_id: int) -> HttpResponse:
    return render(request, "segments/segment.html",
                  _segment_context(request, _owned(request, segment_id)))


@login_required
@require_POST
def rename_page(request: HttpRequest, segment_id: int) -> HttpResponse:
    found = _owned(request, segment_id)
    try:
        given = editing.name({"name": request.POST.get("name")})
    except editing.Invalid as error:
        context = _segment_context(request, found)
        context.update(rename_error=f"The {error}", rename_value=request.POST.get("name", ""))
        return render(request, "segments/segment.html", context, status=400)
    Segment.objects.filter(id=found.id).update(name=given)
    messages.success(request, f"Renamed to {given}.")
    return redirect("segment-page", found.id)


@login_required
@require_http_methods(["GET", "POST"])
def delete_page(request: HttpRequest, segment_id: int) -> HttpResponse:
    """GET asks for confirmation (no script needed); the POST (CSRF-checked) deletes."""
    found = _owned(request, segment_id)
    if request.method == "POST":
        found.delete()  # its cells and efforts with it, as the API's DELETE
        messages.success(request, f"Deleted the segment {found.name}.")
        return redirect("segments-page")
    return render(request, "segments/delete.html",
                  {"segment": found, "units": units_of(request.user)})


def _metres(raw: str | None, units: str, what: str) -> float:
    try:
        value = float((raw or "").strip().replace(",", "."))
    except ValueError:
        raise editing.Invalid(f"{what} is a distance from the activity's start, such as "
                              "1.5.") from None
    if not 0 <= value < 1e5:
        raise editing.Invalid(f"{what} is a distance from the activity's start, 0 or more.")
    return value * (display.M_PER_MI if units == display.IMPERIAL else 1000.0)


@login_required
@require_POST
def from_activity_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    """A stretch of the activity, named by distances from its start in the user's units,
    made into a segment as the API makes one from start_index and end_index."""
    if not Activity.objects.live().filter(id=activity_id, owner=request.user).exists():
        raise Http404("No such activity.")
    units = units_of(request.user)
    try:
        start_m = _metres(request.POST.get("start"), units, "From")
        end_m = _metres(request.POST.get("end"), units, "To")
        track = next((t for _, t in matching.tracks_of([activity_id])), None)
        if track is None:
            raise editing.Invalid("That activity has no track yet: wait until it is "
                                  "processed.")
        try:
            first, last = stretch.indices(track, start_m=start_m, end_m=end_m)
        except ValueError as error:
            raise editing.Invalid(f"{str(error)[:1].upper()}{str(error)[1:]}.") from None
        given, shape = editing.parse({"name": request.POST.get("name"),
                                      "activity_id": activity_id, "start_index": first,
                                      "end_index": last}, owner_id=request.user.id)
    except editing.Invalid as error:
        message = str(error)
        if message.startswith("name"):
            message = f"The {message}"
        return render(request, "segments/refused.html", {
            "units": units, "message": message, "activity_id": activity_id}, status=400)
    except editing.NoActivity:
        raise Http404("No such activity.") from None
    made = editing.create(request.user, given, shape, now=clock.now())
    messages.success(request, f"Saved the segment {made.name}; your activities are being "
                              "matched against it.")
    return redirect("segment-page", made.id)


def activity_panel(request: HttpRequest, *, activity_id: int | None = None,
                   **_context) -> tuple[str, dict] | None:
    """The activity page's section: the segments it matched, each effort with its time and
    its rank among the owner's, and the form that saves a stretch of it as a segment."""
    if activity_id is None:
        return None
    activity = Activity.objects.live().filter(id=activity_id, owner=request.user).first()
    if activity is None:
        return None
    units = units_of(request.user)
    efforts = _efforts("start_offset_s", "segment_id", "lap", activity_id=activity_id)
    return "segments/activity_panel.html", {
        "efforts": _rows(request, efforts, units), "activity_id": activity_id,
        "units": units, "unit": "mi" if units == display.IMPERIAL else "km",
        "unit_m": display.M_PER_MI if units == display.IMPERIAL else 1000.0,
        "can_save": Derived.objects.filter(activity_id=activity_id, deriver="track",
                                           status=Derived.Status.READY).exists(),
        "action": reverse("segment-from-activity", args=[activity_id])}
