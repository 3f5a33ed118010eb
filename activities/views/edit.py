"""The activity's edit page: name, sport, description, gear and visibility, checked as the API's
PATCH checks them (activities.edits), so the two can never disagree. No script needed."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from activities import edits, names, serialize, sports
from activities.models import Gear
from activities.views.pages import _owned

#: The visibility choices as the page says them.
VISIBILITIES = (("private", "Private: only you"),
                ("unlisted", "Unlisted: whoever has the link"),
                ("public", "Public: whoever has the link, and listed on your public profile"))


@login_required
@require_http_methods(["GET", "POST"])
def edit_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _owned(request, activity_id)
    shown = serialize.activity_dict(activity)
    values = {"name": shown["name"] or "", "sport": activity.user_sport or "",
              "description": activity.description or "",
              "gear": str(activity.gear_id or ""), "visibility": activity.visibility}
    error, status = None, 200
    if request.method == "POST":
        values = {key: request.POST.get(key, "") for key in values}
        body = {key: values[key] for key in ("name", "description")}
        # A sport or gear sent unchanged is left out: the books owe no rebuild for it.
        if values["sport"] != (activity.user_sport or ""):
            body["sport"] = values["sport"]
        gear = _gear_id(values["gear"])
        if "gear" in request.POST and gear != activity.gear_id:
            body["gear_id"] = gear
        # Sent unchanged, it is left out: the link stays as it is.
        if "visibility" in request.POST and values["visibility"] != activity.visibility:
            body["visibility"] = values["visibility"]
        try:
            edits.apply(activity, edits.parse(json.dumps(body).encode()))
        except edits.Invalid as invalid:
            error, status = str(invalid), 400
        else:
            messages.info(request, f"Saved {values['name']}.")
            return redirect("activity-page", activity_id=activity.id)
    return render(request, "activities/edit.html", {
        "activity": shown, "name": names.name_of(activity), "values": values, "error": error,
        "visibilities": VISIBILITIES,
        # The owner's gear alone: in use first, a retired one still choosable.
        "gear": Gear.objects.filter(owner_id=activity.owner_id).order_by("retired", "name", "id"),
        **dict(zip(("common_sports", "other_sports"),
                   sports.grouped(edits.SPORTS, keep=values["sport"]), strict=True)),
    }, status=status)


def _gear_id(raw: str) -> int | str | None:
    """The gear field as the PATCH body carries it: none, an id, or what was sent (which
    edits.parse refuses with its sentence)."""
    raw = raw.strip()
    if not raw:
        return None
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else raw
