"""Keep both: an owner says two activities the check paired are not one outing (the API
and the activity page's button); the pair is never made again. Merge and unmerge: the
owner says they are one (duplicates.merging), and takes it back."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from activities import revisions, serialize
from activities.models import Activity
from activities.views.api import api_error, api_view
from duplicates import flags, merging
from duplicates.models import KeptPair
from work import clock


class NotADuplicate(Exception):
    pass


def keep_both(activity: Activity) -> None:
    """Unpair the activity from the one it was taken for (NotADuplicate when none), for
    good, and have the owner's check run again, in one transaction."""
    now = clock.now()
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(id=activity.id)
        if locked.duplicate_of_id is None:
            raise NotADuplicate
        first, second = sorted((locked.id, locked.duplicate_of_id))
        KeptPair.objects.get_or_create(first_id=first, second_id=second,
                                       defaults={"user_id": locked.owner_id, "created_at": now})
        Activity.objects.filter(id=locked.id).update(duplicate_of=None)
        flags.mark([locked.owner_id], now=now)


def _owned(request: HttpRequest, activity_id: int) -> Activity | None:
    return Activity.objects.live().filter(id=activity_id, owner=request.user).first()


def _page_owned(request: HttpRequest, activity_id: int) -> Activity:
    """The signed-in owner's live activity, or a 404 (another user's is one too)."""
    activity = _owned(request, activity_id)
    if activity is None:
        raise Http404("No such activity.")
    return activity


@api_view("POST")
def keep_both_api(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _owned(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    try:
        keep_both(activity)
    except NotADuplicate:
        return api_error("NotADuplicate", f"Activity {activity_id} is not marked as a "
                         f"probable duplicate.", 409)
    activity.refresh_from_db()
    return JsonResponse(serialize.activity_dict(activity))


@login_required
@require_POST
def keep_both_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _page_owned(request, activity_id)
    try:
        keep_both(activity)
    except NotADuplicate:
        messages.info(request, "This activity is not marked as a probable duplicate.")
    else:
        messages.info(request, "Kept both: they will not be paired again.")
    return redirect("activity-page", activity_id=activity.id)


def _primary(request: HttpRequest) -> int | None:
    """The optional "primary" of a merge's body (none, {} or {"primary": id}), or
    merging.BadPrimary."""
    empty_form = (request.content_type == "multipart/form-data" and not request.POST
                  and not request.FILES)
    if empty_form or not request.body.strip():
        return None
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or not set(body) <= {"primary"}:
        raise merging.BadPrimary('Send nothing, {} or {"primary": <activity id>}: the one '
                                 'kept (by default the one with more data).')
    primary = body.get("primary")
    if primary is not None and (isinstance(primary, bool) or not isinstance(primary, int)):
        raise merging.BadPrimary("primary is the id of one of the two activities.")
    return primary


@api_view("POST")
def merge_api(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _owned(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    try:
        primary, merged, streams = merging.merge(activity, primary_id=_primary(request),
                                                 now=clock.now())
    except merging.BadPrimary as error:
        return api_error("BadRequest", str(error), 400)
    except merging.NotAPair as error:
        return api_error("NotADuplicate", str(error), 409)
    except revisions.NotReady:
        return api_error("NotReady", f"Activity {activity_id} or its pair is being "
                         f"processed; merge them once it is ready.", 409)
    return JsonResponse({"primary": serialize.activity_dict(primary),
                         "merged": serialize.activity_dict(merged),
                         "streams_taken": streams})


@api_view("POST")
def unmerge_api(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _owned(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    try:
        activity = merging.unmerge(activity, now=clock.now())
    except merging.NotMerged:
        return api_error("NotMerged", f"Activity {activity_id} is not merged into another.",
                         409)
    return JsonResponse(serialize.activity_dict(activity))


@login_required
@require_POST
def merge_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _page_owned(request, activity_id)
    try:
        primary, merged, streams = merging.merge(activity, now=clock.now())
    except merging.NotAPair:
        messages.info(request, "This activity is not marked as a probable duplicate.")
        return redirect("activity-page", activity_id=activity.id)
    except revisions.NotReady:
        messages.info(request, "One of the two is being processed: merge them once it is "
                      "ready.")
        return redirect("activity-page", activity_id=activity.id)
    taken = f" It took {revisions.in_words(streams)} from it." if streams else ""
    messages.info(request, f"Merged: the other recording is hidden from your lists, records "
                  f"and totals, and can be unmerged from its page.{taken}")
    return redirect("activity-page", activity_id=primary.id)


@login_required
@require_POST
def unmerge_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _page_owned(request, activity_id)
    try:
        merging.unmerge(activity, now=clock.now())
    except merging.NotMerged:
        messages.info(request, "This activity is not merged into another.")
    else:
        messages.info(request, "Unmerged: it counts again in your lists, records and totals.")
    return redirect("activity-page", activity_id=activity.id)

