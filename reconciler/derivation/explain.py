"""Why an activity is in its current state, in a sentence, and its attempts as a timeline."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from activities.models import Activity, Derived
from activities.serialize import iso
from core import derivers
from reconciler.derivation.kind import KIND
from reconciler.models import RolloutAction
from reconciler.rollouts import state as rollout_state
from work import attempts
from work.leases import WORKER_DIED


def why(activity: Activity, outputs: list[Derived], *, now: datetime) -> str:
    """One plain sentence: what the activity is waiting for, or why it stopped."""
    if activity.status == Activity.Status.DEAD and activity.error_code == WORKER_DIED:
        return (f"{activity.error_message} Replay it with `resync --ids {activity.id}` or "
                "the admin's Replay dead action.")
    if activity.status == Activity.Status.DEAD:
        return (f"Gave up after {activity.attempts} failures in a row "
                f"(last: {activity.error_message}). Replay it with "
                f"`resync --ids {activity.id}` or the admin's Replay dead action.")
    if activity.status == Activity.Status.FAILED and not activity.needs_work:
        failed = next((o.deriver for o in outputs if o.status == Derived.Status.FAILED), None)
        which = f" or a new version of {failed}" if failed else ""
        return (f"Failed: {activity.error_message} It is not retried until a re-sync{which}.")
    if activity.needs_work:
        return _pending(activity, now=now)
    behind = _behind(outputs)
    if behind:
        return behind + ": the next sweep rebuilds it."
    return "Ready: every output is at its current version."


def _pending(activity: Activity, *, now: datetime) -> str:
    if activity.lease_token and activity.lease_expires_at and activity.lease_expires_at > now:
        return (f"Leased by worker {activity.lease_owner} until "
                f"{_clock(activity.lease_expires_at)}.")
    if activity.lease_token and activity.attempts >= settings.CAIRN_MAX_ATTEMPTS:
        return (f"Worker {activity.lease_owner}'s lease ran out at "
                f"{_clock(activity.lease_expires_at)}, its attempt {activity.attempts} of "
                f"{settings.CAIRN_MAX_ATTEMPTS}: the next sweep gives it up as dead.")
    if activity.lease_token:
        return (f"Worker {activity.lease_owner}'s lease ran out at "
                f"{_clock(activity.lease_expires_at)}: the next sweep takes it over.")
    if activity.attempts and activity.due_at > now:
        plural = "s" if activity.attempts != 1 else ""
        return (f"Waiting to retry at {_clock(activity.due_at)} after {activity.attempts} "
                f"failure{plural} (last: {activity.error_message})")
    if activity.due_at > now:
        return f"Waiting until {_clock(activity.due_at)}, then the next sweep takes it."
    return (f"Queued since {_clock(activity.pending_since or activity.created_at)}: the next "
            "sweep or worker takes it.")


def _behind(outputs: list[Derived]) -> str:
    stored = {o.deriver: o for o in outputs}
    held = rollout_state.held()
    notes = []
    for deriver in derivers.ALL:
        row = stored.get(deriver.name)
        if row is None:
            notes.append(f"{deriver.name} is missing")
        elif row.status == Derived.Status.STALE:
            notes.append(f"a re-sync of {deriver.name} was asked")
        elif row.version < deriver.version and deriver.name in held:
            continue  # its rollout is held (preview, paused, rolled back): current for now
        elif row.version < deriver.version:
            notes.append(f"{deriver.name} is version {row.version}, current is "
                         f"{deriver.version}")
    return "; ".join(notes).capitalize() if notes else ""


def timeline(activity: Activity) -> list[dict]:
    """Every attempt, oldest first, as the timeline page and API show it."""
    return [
        {"id": a.id, "trigger": a.trigger, "worker": a.worker, "versions": a.versions,
         "started_at": iso(a.started_at), "ended_at": iso(a.ended_at),
         "held_until": iso(a.held_until), "outcome": a.outcome or None,
         "derivers_run": a.detail.get("derivers", []), "error_code": a.error_code or None,
         "error": a.error_message or None}
        for a in attempts.of(KIND.name, activity.id)
    ]


def rollout_actions(activity: Activity, outputs: list[Derived]) -> list[dict]:
    """What operators did to the rollouts of outputs this activity has, since it was
    uploaded: each one changed what it shows, or could have."""
    names = {o.deriver for o in outputs}
    actions = (RolloutAction.objects.filter(rollout__deriver__in=names,
                                            at__gte=activity.created_at)
               .select_related("rollout").order_by("at", "id"))
    return [{"at": iso(a.at), "deriver": a.rollout.deriver, "version": a.rollout.version,
             "action": a.action, "by": a.by, "from": a.from_state, "to": a.to_state,
             "detail": a.detail or None} for a in actions]


def _clock(moment: datetime | None) -> str:
    return moment.strftime("%H:%M:%S UTC") if moment else "?"
