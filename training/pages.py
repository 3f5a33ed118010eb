"""The training pages (session, owner only): fitness / fatigue / form with the thresholds
form, the gear list and each gear's page, and the power curve panel of the records page.
Forms post plain fields, turned into the API's body and checked by the API's own parsers
(training.thresholds, training.gear), so the two can never disagree. No script needed."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from activities import display, names, sports
from activities.edits import SPORTS
from activities.models import Activity, Gear
from activities.views.pages import units_of
from core.training.power import CURVE_DURATIONS_S
from training import charts, gear, rebuild, served, thresholds
from training.models import ActivityLoad, Book, Day, Threshold
from training.views import DEFAULT_DAYS, BadRange, fitness_range
from work import clock

#: A gear's warning starts at this share of its retirement distance.
WARN_AT = 0.9
#: Activities per page of a gear's page.
PER_PAGE = 50
KIND_NAMES = {"ftp": "FTP", "lthr": "Threshold heart rate", "hr_rest": "Resting heart rate",
              "hr_max": "Maximum heart rate"}
HINT_NAMES = {"ftp": "FTP", "lthr": "threshold heart rate", "hr_rest": "resting heart rate",
              "hr_max": "maximum heart rate"}
UNIT = {"ftp": "W", "lthr": "bpm", "hr_rest": "bpm", "hr_max": "bpm"}


def state_words(book: Book | None) -> str:
    """The book's state in its owner's words, as the records page says its own."""
    if book is None:
        return "Nothing built yet: the book is made once an activity has been processed."
    if book.status == Book.Status.DEAD:
        return ("Building your training book failed again and again, so it stopped until "
                "the administrator starts it again; this page shows the last build.")
    if book.needs_work:
        return "Being rebuilt after a change: this page shows the last build for a moment."
    return "Up to date: built from every processed activity and your thresholds."


def _book(user) -> Book | None:
    return Book.objects.filter(user=user).first()


def _number(raw: str) -> int | str:
    """A form's whole number as the API's body would carry it; anything else as typed,
    for the parser to refuse with its sentence."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else raw


def _range(query: QueryDict, today: date) -> tuple[date, date, str | None]:
    """The fitness page's from and to, as the API reads them (a field left empty: its
    default), and a sentence when they cannot be shown (then the default range)."""
    try:
        return (*fitness_range({k: v for k, v in query.items() if v}, today), None)
    except BadRange as error:
        start, end = fitness_range({}, today)
        return start, end, f"{str(error).capitalize()} Showing the last {DEFAULT_DAYS} days."


def _fitness_context(request: HttpRequest) -> dict:
    user = request.user
    today = rebuild.today_of(user.id)
    start, end, range_error = _range(request.GET, today)
    book = _book(user)
    days = served.days(user.id, start, end, today=today)
    rows = Threshold.objects.filter(user=user).order_by("kind", "-effective")
    kinds_set = set(rows.values_list("kind", flat=True))
    return {
        "units": units_of(user), "state": served.state(book), "state_words": state_words(book),
        "start": start.isoformat(), "end": end.isoformat(), "range_error": range_error,
        "chart": charts.fitness(days), "days": list(reversed(days)),
        "any_days": bool(days) or Day.objects.filter(user=user).exists(),
        "has_loads": ActivityLoad.objects.filter(user=user, load__isnull=False).exists(),
        "needs_threshold": not kinds_set & {"ftp", "lthr"},
        "thresholds": [{"kind": KIND_NAMES[t.kind], "value": f"{t.value} {UNIT[t.kind]}",
                        "from": t.effective} for t in rows],
        "kinds": list(KIND_NAMES.items()),
        "range_hint": "; ".join(f"{HINT_NAMES[k]} {low}–{high} {UNIT[k]}"
                                for k, (low, high) in thresholds.RANGES.items()),
        "values": {"kind": "ftp", "value": "", "from": today.isoformat()}, "error": None,
    }


@login_required
def fitness_page(request: HttpRequest) -> HttpResponse:
    context = _fitness_context(request)
    return render(request, "training/fitness.html", context,
                  status=400 if context["range_error"] else 200)


@login_required
@require_POST
def threshold_add(request: HttpRequest) -> HttpResponse:
    """The thresholds form: the API's body from its fields, checked by its parser."""
    values = {key: request.POST.get(key, "") for key in ("kind", "value", "from")}
    try:
        wanted = thresholds.parse({**values, "value": _number(values["value"])})
    except thresholds.Invalid as error:
        context = _fitness_context(request) | {"values": values, "error": str(error)}
        return render(request, "training/fitness.html", context, status=400)
    _, created = thresholds.put(request.user.id, wanted, now=clock.now())
    day = f"{wanted.effective.day} {wanted.effective:%b %Y}"
    done = "saved" if created else "saved, replacing that day's value"
    messages.info(request, f"{KIND_NAMES[wanted.kind]} {wanted.value} {UNIT[wanted.kind]} "
                  f"from {day} {done}: your loads and fitness are rebuilt from that day on.")
    return redirect("fitness-page")


def _distance_of_km(km: int, units: str) -> str:
    return display.distance(km * 1000, units)


def _gear_shown(found: Gear, totals: dict, units: str) -> dict:
    """A gear as the pages show it: its totals in the user's units and the warning."""
    shown = gear.as_dict(found, totals)
    warning = None
    if found.retire_at_km:
        share = shown["distance_m"] / (found.retire_at_km * 1000)
        limit = _distance_of_km(found.retire_at_km, units)
        if share >= 1:
            warning = f"Past its retirement distance of {limit}."
        elif share >= WARN_AT:
            warning = f"Nearing its retirement distance: {share:.0%} of {limit}."
    return shown | {
        "distance": display.distance(shown["distance_m"], units),
        "moving": display.duration(shown["moving_s"]),
        "kind_name": found.get_kind_display().capitalize(),
        "sport_names": ", ".join(sports.name(s) for s in found.sports),
        "retire_at": _distance_of_km(found.retire_at_km, units) if found.retire_at_km else "",
        "warning": warning}


def _gear_body(post: QueryDict, *, new: bool) -> dict:
    """The API's body from a gear form's fields (a field left out is not changed)."""
    body: dict = {}
    if "name" in post:
        body["name"] = post["name"]
    if new:
        body["kind"] = post.get("kind", "")
    if "sports-shown" in post:  # the form lists the sports: none chosen is none
        body["sports"] = post.getlist("sports")
    if "retire_at_km" in post:
        raw = post["retire_at_km"].strip()
        body["retire_at_km"] = _number(raw) if raw else None
    if "retired-shown" in post:  # a checkbox not ticked sends nothing
        body["retired"] = post.get("retired") == "on"
    return body


def _sport_choices(chosen: list[str]) -> dict:
    common, other = sports.grouped(SPORTS)
    return {"common_sports": common, "other_sports": other, "chosen_sports": chosen}


def _gear_list_context(request: HttpRequest) -> dict:
    units = units_of(request.user)
    book = _book(request.user)
    totals = book.gear if book is not None else {}
    rows = Gear.objects.filter(owner=request.user).order_by("retired", "id")
    return {"units": units, "gear": [_gear_shown(g, totals, units) for g in rows],
            "state": served.state(book), "state_words": state_words(book),
            "kinds": Gear.Kind.values, "values": {"name": "", "kind": "shoes",
                                                  "retire_at_km": ""},
            "error": None, **_sport_choices([])}


@login_required
@require_http_methods(["GET", "POST"])
def gear_page(request: HttpRequest) -> HttpResponse:
    """Your gear with its totals; the POST adds one."""
    if request.method == "POST":
        try:
            fields = gear.parse(_gear_body(request.POST, new=True), new=True)
        except gear.Invalid as error:
            context = _gear_list_context(request) | {
                "error": str(error), **_sport_choices(request.POST.getlist("sports")),
                "values": {key: request.POST.get(key, "")
                           for key in ("name", "kind", "retire_at_km")}}
            return render(request, "training/gear.html", context, status=400)
        made = Gear.objects.create(owner=request.user, created_at=clock.now(), **fields)
        messages.info(request, f"Added {made.name}.")
        return redirect("gear-page")
    return render(request, "training/gear.html", _gear_list_context(request))


def _owned(request: HttpRequest, gear_id: int) -> Gear:
    found = Gear.objects.filter(id=gear_id, owner=request.user).first()
    if found is None:
        raise Http404("No such gear.")
    return found


def _activities(request: HttpRequest, found: Gear) -> dict:
    """The gear's activities, newest first, a page at a time, each with the distance and
    moving time its totals counted."""
    listed = (Activity.objects.counted().filter(owner=request.user, gear=found)
              .select_related("upload").order_by("-start_time", "-id"))
    page = Paginator(listed, PER_PAGE).get_page(request.GET.get("page"))
    shown_activities = list(page.object_list)
    counted = dict((i, (d, m)) for i, d, m in ActivityLoad.objects.filter(
        user=request.user, activity_id__in=[a.id for a in shown_activities])
        .values_list("activity_id", "distance_dm", "moving_ds"))
    shown = names.shown_all(shown_activities, names.summaries(shown_activities))
    units = units_of(request.user)
    rows = []
    for activity in shown_activities:
        distance_dm, moving_ds = counted.get(activity.id, (None, None))
        rows.append({"id": activity.id, "name": shown[activity.id],
                     "sport": sports.name(activity.user_sport or activity.sport)
                     if (activity.user_sport or activity.sport) else "",
                     "start": activity.start_time,
                     "distance": display.distance(distance_dm / 10, units)
                     if distance_dm is not None else "not counted yet",
                     "moving": display.duration(moving_ds / 10)
                     if moving_ds is not None else ""})
    return {"page": page, "activities": rows}


@login_required
@require_http_methods(["GET", "POST"])
def gear_detail_page(request: HttpRequest, gear_id: int) -> HttpResponse:
    """One gear: its totals, the form that renames it, sets its sports, its retirement
    distance, retires it or puts it back in use; and its activities."""
    found = _owned(request, gear_id)
    error, status = None, 200
    values = {"name": found.name, "retire_at_km": found.retire_at_km or "",
              "retired": found.retired}
    chosen = list(found.sports)
    if request.method == "POST":
        try:
            fields = gear.parse(_gear_body(request.POST, new=False), new=False)
        except gear.Invalid as invalid:
            error, status = str(invalid), 400
            values = {"name": request.POST.get("name", found.name),
                      "retire_at_km": request.POST.get("retire_at_km", values["retire_at_km"]),
                      "retired": request.POST.get("retired") == "on"
                      if "retired-shown" in request.POST else found.retired}
            if "sports-shown" in request.POST:
                chosen = request.POST.getlist("sports")
        else:
            for name, value in fields.items():
                setattr(found, name, value)
            found.save(update_fields=list(fields))
            messages.info(request, f"Saved {found.name}.")
            if request.POST.get("next") == "list":  # the list's retire button
                return redirect("gear-page")
            return redirect("gear-detail", gear_id=found.id)
    units = units_of(request.user)
    book = _book(request.user)
    return render(request, "training/gear_detail.html", {
        "gear": _gear_shown(found, book.gear if book is not None else {}, units),
        "values": values, "error": error, "units": units, "state": served.state(book),
        "state_words": state_words(book), **_sport_choices(chosen),
        **_activities(request, found)}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def gear_delete_page(request: HttpRequest, gear_id: int) -> HttpResponse:
    """GET asks for confirmation; the POST (CSRF-checked) deletes as the API does."""
    found = _owned(request, gear_id)
    if request.method == "POST":
        gear.delete(found, now=clock.now())
        messages.info(request, f"Deleted {found.name}.")
        return redirect("gear-page")
    count = Activity.objects.live().filter(owner=request.user, gear=found).count()
    return render(request, "training/gear_delete.html", {"gear": found, "count": count})


def power_curve_panel(request: HttpRequest) -> tuple[str, dict]:
    """The records page's power curve: all time and the last 90 days, each point with a
    link to its activity."""
    user = request.user
    book = _book(user)
    today = rebuild.today_of(user.id)
    whole = served.curve(user.id, book, recent=False, today=today)
    recent = served.curve(user.id, book, recent=True, today=today)
    ids = {p["activity_id"] for p in (*whole, *recent)}
    held = list(Activity.objects.live().filter(owner=user, id__in=ids).select_related("upload"))
    shown = names.shown_all(held, names.summaries(held))
    for point in (*whole, *recent):
        point["name"] = shown.get(point["activity_id"], "")
    chart = charts.power_curve(whole, recent, longest=CURVE_DURATIONS_S[-1])
    return "training/power_curve.html", {"curve": chart, "recent_days": served.RECENT_DAYS,
                                         "curve_pending": book is not None and book.needs_work}
