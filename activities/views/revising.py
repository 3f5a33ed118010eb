"""The revisions API: crop, remove a stretch, split, list and restore revisions of one of
your activities (activities.revisions does the work)."""

from __future__ import annotations

import json
import math

from django.http import HttpRequest, HttpResponse, JsonResponse

from activities import revisions, serialize
from activities.views.api import api_error, api_view, owned
from work import clock


class _Invalid(ValueError):
    pass


def _seconds(request: HttpRequest, *names: str) -> list[float]:
    """The named fields of a JSON body, each a finite number of seconds, or _Invalid."""
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        body = None
    wanted = " and ".join(f'"{n}"' for n in names)
    if not isinstance(body, dict) or set(body) != set(names):
        raise _Invalid(f"Send a JSON object with {wanted} (seconds from the start).")
    values = [body[n] for n in names]
    # Past a billion seconds (32 years) a number is no time in an activity; it is refused
    # before float() could overflow on a huge JSON integer.
    if any(isinstance(v, bool) or not isinstance(v, int | float)
           or not (isinstance(v, float) and math.isfinite(v) or isinstance(v, int))
           or abs(v) > 1e9 for v in values):
        raise _Invalid(f"{wanted} are numbers of seconds from the start.")
    return [float(v) for v in values]


def _revised(request: HttpRequest, activity_id: int, change) -> HttpResponse:
    activity = owned(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    try:
        result = change(activity)
    except _Invalid as error:
        return api_error("BadRequest", str(error), 400)
    except revisions.NotReady:
        return api_error("NotReady", f"Activity {activity_id} is being processed; revise it "
                         f"once it is ready.", 409)
    except revisions.EditError as error:
        return api_error("CannotRevise", str(error), 422)
    return result


def _edit(names: tuple[str, str], operation):
    """A view that reads two numbers of seconds and revises the activity with them."""

    @api_view("POST")
    def view(request: HttpRequest, activity_id: int) -> HttpResponse:
        def change(activity):
            values = _seconds(request, *names)
            operation(activity, **dict(zip(names, values, strict=True)), now=clock.now())
            return _answer(activity, 202)
        return _revised(request, activity_id, change)

    return view


crop = _edit(("start_s", "end_s"), revisions.crop)
remove = _edit(("from_s", "to_s"), revisions.remove)


@api_view("POST")
def split(request: HttpRequest, activity_id: int) -> HttpResponse:
    def change(activity):
        (at_s,) = _seconds(request, "at_s")
        part = revisions.split(activity, at_s=at_s, now=clock.now())
        activity.refresh_from_db()
        return JsonResponse({"activity": serialize.activity_dict(activity),
                             "new_activity": serialize.activity_dict(part)}, status=202)
    return _revised(request, activity_id, change)


@api_view("GET")
def revision_list(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = owned(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    return JsonResponse({"current": activity.revision, "revisions": [
        row | {"created_at": serialize.iso(row["created_at"])}
        for row in revisions.history(activity)]})


@api_view("POST")
def restore(request: HttpRequest, activity_id: int, number: int) -> HttpResponse:
    activity = owned(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    try:
        revisions.restore(activity, number=number, now=clock.now())
    except LookupError:
        return api_error("NotFound", f"Activity {activity_id} has no revision {number}.", 404)
    return _answer(activity, 202)


def _answer(activity, status: int) -> JsonResponse:
    activity.refresh_from_db()
    return JsonResponse(serialize.activity_dict(activity), status=status)
