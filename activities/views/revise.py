"""The activity's revise page: crop or split it, seeing the new distance and time before
saving, and every earlier revision with a button to restore it. Checked and done as the
revisions API does (activities.revisions); no script needed."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from activities import display, names, revisions, serialize
from activities.views.pages import _owned, units_of
from core import revisions as edits_of
from core.summarize import summarize
from work import clock

_CLOCK = re.compile(r"^\s*(?:(\d{1,5}):)?(\d{1,2}):(\d{1,2})\s*$|^\s*(\d{1,9})\s*$")


class _Unreadable(ValueError):
    pass


def seconds(text: str, label: str) -> float:
    """'h:mm:ss', 'm:ss' or whole seconds -> seconds; _Unreadable with a sentence."""
    found = _CLOCK.match(text or "")
    if not found:
        raise _Unreadable(f"Write the {label} as hours:minutes:seconds, e.g. 0:05:00.")
    hours, minutes, secs, plain = found.groups()
    if plain is not None:
        return float(plain)
    if int(secs) >= 60 or (hours is not None and int(minutes) >= 60):
        raise _Unreadable(f"The {label} has more than 59 minutes or seconds in a place.")
    return float(int(hours or 0) * 3600 + int(minutes) * 60 + int(secs))


def _clock(value: float) -> str:
    value = int(round(value))
    return f"{value // 3600}:{value % 3600 // 60:02d}:{value % 60:02d}"


def described(revision: dict) -> str:
    """A revision in words, its times as the forms take them."""
    detail, action = revision["detail"], revision["action"]
    if action == "original":
        return "The original file"
    if action == "crop":
        return f"Cropped to {_clock(detail['start_s'])}–{_clock(detail['end_s'])}"
    if action == "remove":
        return f"Removed {_clock(detail['from_s'])}–{_clock(detail['to_s'])}"
    if action == "split":
        return (f"Split off from another activity at {_clock(detail['at_s'])}"
                if "from" in detail else f"Split at {_clock(detail['at_s'])}")
    if action == "merge":
        taken = revisions.in_words(detail.get("streams", ()))
        return f"Took {taken} from activity {detail.get('from')}, merged into this one"
    if action == "unmerge":
        return f"Gave back what it took from activity {detail.get('from')} (unmerged)"
    return ("Restored the original" if detail.get("number") == 0
            else f"Restored revision {detail.get('number')}")


def _history(activity) -> list[dict]:
    return [row | {"words": described(row)} for row in revisions.history(activity)]


@login_required
@require_http_methods(["GET", "POST"])
def revise_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _owned(request, activity_id)
    units = units_of(request.user)
    shown = serialize.activity_dict(activity)
    try:
        track = revisions.current_track(activity)
        first, last = edits_of.span(track)
    except (revisions.NotReady, edits_of.EditError) as reason:
        return render(request, "activities/revise.html", {
            "activity": shown, "name": names.name_of(activity), "units": units,
            "unavailable": "This activity is being processed; come back when it is ready."
            if isinstance(reason, revisions.NotReady) else str(reason),
            "history": _history(activity)}, status=200)
    values = {"start": request.POST.get("start", "0:00:00"),
              "end": request.POST.get("end", _clock(last - first)),
              "at": request.POST.get("at", _clock((last - first) / 2))}
    action = request.POST.get("action", "")
    error, preview, status = None, None, 200
    if request.method == "POST":
        try:
            if action in ("preview-crop", "crop"):
                start, end = seconds(values["start"], "start"), seconds(values["end"], "end")
                new = edits_of.cropped(activity.edits or {}, track, start, end)
                if action == "crop":
                    revisions.crop(activity, start_s=start, end_s=end, now=clock.now())
                    messages.info(request, "Cropped: its outputs are being derived again.")
                    return redirect("activity-page", activity_id=activity.id)
                preview = {"kind": "crop", "parts": [_facts(track, new, units)]}
            elif action in ("preview-split", "split"):
                at = seconds(values["at"], "split time")
                one, two = edits_of.split(activity.edits or {}, track, at)
                if action == "split":
                    part = revisions.split(activity, at_s=at, now=clock.now())
                    messages.info(request, "Split in two: this is the first part, and the "
                                  "second is a new activity, shown here.")
                    return redirect("activity-page", activity_id=part.id)
                preview = {"kind": "split",
                           "parts": [_facts(track, one, units), _facts(track, two, units)]}
            else:
                error, status = "Choose to preview or save a crop or a split.", 400
        except _Unreadable as unreadable:
            error, status = str(unreadable), 400
        except edits_of.EditError as refused:
            error, status = str(refused), 422
        except revisions.NotReady:
            error, status = "This activity is being processed; try again when it is ready.", 409
    return render(request, "activities/revise.html", {
        "activity": shown, "name": names.name_of(activity), "units": units,
        "values": values, "error": error, "preview": preview, "action": action,
        "now": {"distance": display.distance(shown.get("distance_m"), units),
                "time": display.duration(shown.get("elapsed_s"))},
        "length": display.duration(last - first), "history": _history(activity)}, status=status)


def _facts(track, edits: dict, units: str) -> dict:
    """The distance and times a track would have with `edits` (crop in its own span)."""
    summary = summarize(edits_of.apply(track, {"crop": edits["crop"]}))
    return {"distance": display.distance(summary.get("distance_m"), units),
            "time": display.duration(summary.get("elapsed_s")),
            "moving": display.duration(summary.get("moving_s"))}


@login_required
@require_POST
def restore_revision(request: HttpRequest, activity_id: int, number: int) -> HttpResponse:
    activity = _owned(request, activity_id)
    try:
        revisions.restore(activity, number=number, now=clock.now())
    except LookupError:
        messages.error(request, f"There is no revision {number}.")
        return redirect("activity-revise", activity_id=activity.id)
    messages.info(request, "Restored" + (" the original." if number == 0
                                         else f" revision {number}."))
    return redirect("activity-page", activity_id=activity.id)
