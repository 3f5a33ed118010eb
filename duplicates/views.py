"""Keep both: an owner says two activities the check paired are not one outing (the API
and the activity page's button); the pair is never made again."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from activities import serialize
from activities.models import Activity
from activities.views.api import api_error, api_view
from duplicates import flags
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
    activity = _owned(request, activity_id)
    if activity is None:
        raise Http404("No such activity.")
    try:
        keep_both(activity)
    except NotADuplicate:
        messages.info(request, "This activity is not marked as a probable duplicate.")
    else:
        messages.info(request, "Kept both: they will not be paired again.")
    return redirect("activity-page", activity_id=activity.id)
