"""Pages and endpoints that act on reconcile state: an activity's debug timeline (owner or
staff), reprocessing (owner), and the staff drift page."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from activities import names, serialize
from activities.models import Activity, Derived
from activities.views.api import api_error, api_view
from reconciler import nudges
from reconciler.derivation import explain, resync
from reconciler.operations import drift, tallies
from work import clock, kinds

#: The operators' pages (one per symptom), shown to staff from the drift page.
RUNBOOKS = settings.BASE_DIR / "runbooks"


def _visible(request: HttpRequest, activity_id: int) -> Activity | None:
    activity = Activity.objects.live().filter(id=activity_id).first()
    if activity is None or not (activity.owner_id == request.user.id
                                or request.user.is_staff):
        return None  # someone else's: as if it did not exist
    return activity


def _timeline(activity: Activity) -> dict:
    outputs = list(Derived.objects.filter(activity=activity).defer("data"))
    return {
        "activity_id": activity.id,
        "status": activity.status,
        "why": explain.why(activity, outputs, now=clock.now()),
        "outputs": [{"deriver": o.deriver, "version": o.version, "status": o.status,
                     "duration_ms": o.duration_ms, "error": o.error_message or None}
                    for o in outputs],
        "attempts": explain.timeline(activity),
        "rollouts": explain.rollout_actions(activity, outputs),
    }


@login_required
def timeline_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = _visible(request, activity_id)
    if activity is None:
        raise Http404("No such activity.")
    return render(request, "reconciler/timeline.html",
                  {"activity": activity, "name": names.name_of(activity), **_timeline(activity)})


@api_view("GET")
def timeline_api(request: HttpRequest, activity_id: int) -> JsonResponse:
    activity = _visible(request, activity_id)
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    return JsonResponse(_timeline(activity))


@staff_member_required
def drift_page(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    counts = drift.count(now=now)
    return render(request, "reconciler/drift.html", {
        "counts": counts,
        # One table per registered kind, the same rows for each (work.drift.STATES).
        "kinds": [(kinds.get(name), found) for name, found in counts["work"].items()],
        "workers": drift.worker_rows(now=now),
        "last_sweep": drift.last_sweep(now=now),
        "nudge_failures": tallies.last_hour(tallies.NUDGE_FAILED, now=now),
        "inline_fallbacks": tallies.last_hour(tallies.INLINE_FALLBACK, now=now),
        "now": now,
    })


@staff_member_required
def runbook_page(request: HttpRequest, name: str) -> HttpResponse:
    """One runbook page as it is in the repository (the drift page links each kind's)."""
    if name not in {path.name for path in RUNBOOKS.glob("*.md")}:
        raise Http404("No such runbook.")
    return render(request, "reconciler/runbook.html",
                  {"name": name, "text": (RUNBOOKS / name).read_text(encoding="utf-8")})


def _reprocess(activity: Activity) -> None:
    """The owner asked to try again: a forced re-sync of everything, first in line."""
    resync.resync(Activity.objects.filter(id=activity.id), now=clock.now(), revive_dead=True,
                  priority=Activity.Priority.FRESH)
    nudges.send(activity.id)


@api_view("POST")
def reprocess_api(request: HttpRequest, activity_id: int) -> JsonResponse:
    activity = Activity.objects.live().filter(id=activity_id, owner=request.user).first()
    if activity is None:
        return api_error("NotFound", f"No activity {activity_id}.", 404)
    _reprocess(activity)
    activity.refresh_from_db()
    return JsonResponse(serialize.activity_dict(activity), status=202)


@login_required
@require_POST
def reprocess_page(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = Activity.objects.live().filter(id=activity_id, owner=request.user).first()
    if activity is None:
        raise Http404("No such activity.")
    _reprocess(activity)
    return redirect("activity-page", activity_id=activity.id)
