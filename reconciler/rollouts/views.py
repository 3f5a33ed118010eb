"""The staff rollouts page: each rollout's report and its actions, and one activity's old
and new outputs side by side."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from reconciler.models import Rollout
from reconciler.rollouts import ops as rollout_ops
from reconciler.rollouts import report as rollout_report
from work import clock

#: Finished rollouts shown below the unfinished ones.
RECENT = 10


@staff_member_required
def rollouts_page(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    unfinished = Rollout.objects.filter(finished_at=None).order_by("id")
    finished = Rollout.objects.exclude(finished_at=None).order_by("-finished_at")[:RECENT]
    return render(request, "reconciler/rollouts.html", {
        "reports": [rollout_report.build(r, now=now) for r in unfinished],
        "finished": finished, "actions": list(rollout_ops.MOVES)})


@staff_member_required
@require_POST
def rollout_action(request: HttpRequest, rollout_id: int, action: str) -> HttpResponse:
    now, who = clock.now(), request.user.get_username()
    try:
        if action == "throttle":
            raw = request.POST.get("per_min", "").strip()
            if not raw.isdigit():
                raise rollout_ops.Refused("The throttle is a whole number of activities per "
                                          "minute (0: none).")
            done = rollout_ops.throttle(rollout_id, int(raw), by=who, now=now)
        elif action == "sample":
            ids = [int(i) for i in request.POST.get("ids", "").replace(",", " ").split()
                   if i.isdigit()]
            if not ids:
                raise rollout_ops.Refused("Name activity ids to add to the sample.")
            done = rollout_ops.sample(rollout_id, ids, by=who, now=now)
        else:
            done = rollout_ops.act(rollout_id, action, by=who, now=now)
    except rollout_ops.Refused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, done.message)
    return redirect("rollouts-page")


@staff_member_required
def rollout_activity(request: HttpRequest, rollout_id: int, activity_id: int) -> HttpResponse:
    rollout = Rollout.objects.filter(id=rollout_id).first()
    pairs = rollout_report.compare_sample(rollout, [activity_id]) if rollout else []
    if not pairs:
        raise Http404("That activity is not in this rollout's computed sample.")
    pair = pairs[0]
    old, new = pair.old.get("summary"), pair.new.get("summary")
    fields = []
    if isinstance(old, dict) or isinstance(new, dict):
        for field in rollout_report.NUMBERS + rollout_report.VALUES:
            a, b = (old or {}).get(field), (new or {}).get(field)
            fields.append({"field": field, "old": a, "new": b,
                           "changed": rollout_report.changed(a, b)})
    outputs = [{"deriver": name, "old_bytes": len(pair.old_bytes.get(name, b"")),
                "new_bytes": len(pair.new_bytes.get(name, b"")),
                "old_points": rollout_report.points_in(name, pair.old[name])
                if name in pair.old else None,
                "new_points": rollout_report.points_in(name, pair.new[name])
                if name in pair.new else None,
                "same": pair.old_bytes.get(name) == pair.new_bytes.get(name)}
               for name in sorted(set(pair.old_bytes) | set(pair.new_bytes))]
    return render(request, "reconciler/rollout_activity.html", {
        "rollout": rollout, "activity_id": activity_id, "fields": fields, "outputs": outputs,
        "failures": pair.failed})


urlpatterns = [
    path("", rollouts_page, name="rollouts-page"),
    path("<id:rollout_id>/activities/<id:activity_id>/", rollout_activity,
         name="rollout-activity"),
    path("<id:rollout_id>/<slug:action>/", rollout_action, name="rollout-action"),
]
