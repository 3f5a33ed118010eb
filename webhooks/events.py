"""Events into the outbox: each is written in the transaction of the change it reports
(a settle, an edit, a delete), one Delivery row per listening subscription."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import uuid
from collections.abc import Iterable
from datetime import datetime

from django.db.models import QuerySet

from activities.models import Activity
from activities.serialize import iso
from webhooks import destinations
from webhooks.models import Announced, Delivery, Subscription
from work import tracing

UPLOAD_READY = "upload.ready"
UPLOAD_FAILED = "upload.failed"
ACTIVITY_UPDATED = "activity.updated"
ACTIVITY_DELETED = "activity.deleted"
ALL = (UPLOAD_READY, UPLOAD_FAILED, ACTIVITY_UPDATED, ACTIVITY_DELETED)
#: Strava's aspect for each event a push subscription hears (Strava reports no failures).
STRAVA_ASPECTS = {UPLOAD_READY: "create", ACTIVITY_UPDATED: "update",
                  ACTIVITY_DELETED: "delete"}
#: The summary figures an event carries.
FIGURES = ("title", "sport", "start_time", "distance_m", "elapsed_s", "moving_s", "ascent_m",
           "descent_m", "avg_speed_mps", "max_speed_mps", "avg_hr_bpm", "max_hr_bpm",
           "point_count")


def new_secret() -> str:
    """Standard Webhooks' form: whsec_ + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def settled(activities: Iterable[Activity], rounds: dict, *, now: datetime) -> int:
    """After a settle (inside its transaction): upload.ready or upload.failed the first
    time an activity settles, activity.updated when a rebuild changed its summary.
    Nothing is read or written for owners without subscriptions."""
    activities = [a for a in activities if a.deleted_at is None and a.status in (
        Activity.Status.READY, Activity.Status.FAILED, Activity.Status.DEAD)]
    listeners = _listeners({a.owner_id for a in activities})
    activities = [a for a in activities if a.owner_id in listeners]
    if not activities:
        return 0
    announced = dict(Announced.objects.filter(activity_id__in=[a.id for a in activities])
                     .values_list("activity_id", "summary_sha"))
    rows, digests = [], []
    for activity in activities:
        result = rounds[activity.id]
        summary = result.values.get("summary")
        sha = _digest(summary) if summary is not None else ""
        stored = result.stored.get("summary")
        if activity.id not in announced and (stored is None or stored.status != "ready"):
            event = (UPLOAD_READY if activity.status == Activity.Status.READY
                     else UPLOAD_FAILED)
        elif summary is not None and announced.get(activity.id) != sha:
            event = ACTIVITY_UPDATED
        else:
            continue
        data = _data(activity, summary)
        rows += _deliveries(listeners[activity.owner_id], event, activity, data, now=now)
        digests.append(Announced(activity_id=activity.id, summary_sha=sha))
    Announced.objects.bulk_create(digests, update_conflicts=True, unique_fields=["activity_id"],
                                  update_fields=["summary_sha"])
    Delivery.objects.bulk_create(rows)
    return len(rows)


def edited(activity: Activity, changes: dict[str, str], *, now: datetime) -> int:
    """An owner's edit (inside its transaction): activity.updated with the fields changed."""
    listeners = _listeners({activity.owner_id})
    if not listeners:
        return 0
    data = {**_data(activity, None), "changes": changes}
    rows = _deliveries(listeners[activity.owner_id], ACTIVITY_UPDATED, activity, data,
                       now=now, updates=_strava_updates(changes))
    Delivery.objects.bulk_create(rows)
    return len(rows)


def on_edit(sender, *, activity: Activity, changes: dict[str, str], now: datetime,
            **_) -> None:
    """activities.changes.edited, in the edit's transaction."""
    edited(activity, changes, now=now)


def on_delete(sender, *, ids: list[int], now: datetime, **_) -> None:
    """activities.changes.deleted, in the deletion's transaction."""
    deleted(Activity.objects.filter(id__in=ids), now=now)


def deleted(activities: QuerySet[Activity], *, now: datetime) -> int:
    """A delete (inside its transaction): activity.deleted for each."""
    found = list(activities.only("id", "owner_id", "upload_id", "status", "trace_parent"))
    listeners = _listeners({a.owner_id for a in found})
    rows = []
    for activity in found:
        if activity.owner_id in listeners:
            rows += _deliveries(listeners[activity.owner_id], ACTIVITY_DELETED, activity,
                                {"activity_id": activity.id, "upload_id": activity.upload_id,
                                 "status": "deleted"}, now=now)
    Delivery.objects.bulk_create(rows)
    Announced.objects.filter(activity_id__in=[a.id for a in found]).delete()
    return len(rows)


def _listeners(owner_ids: set[int]) -> dict[int, list[Subscription]]:
    found: dict[int, list[Subscription]] = {}
    if owner_ids:
        for sub in Subscription.objects.filter(owner_id__in=owner_ids).order_by("id"):
            found.setdefault(sub.owner_id, []).append(sub)
    return found


def _deliveries(subs: list[Subscription], event: str, activity: Activity, data: dict, *,
                now: datetime, updates: dict | None = None) -> list[Delivery]:
    rows = []
    for sub in subs:
        if sub.kind == Subscription.Kind.STRAVA:
            if event not in STRAVA_ASPECTS:
                continue
            body = {"object_type": "activity", "object_id": activity.id,
                    "aspect_type": STRAVA_ASPECTS[event], "owner_id": activity.owner_id,
                    "subscription_id": sub.id, "event_time": int(now.timestamp()),
                    "updates": updates or {}}
        elif event in sub.events:
            body = {"type": event, "timestamp": iso(now), "data": data}
        else:
            continue
        rows.append(Delivery(
            subscription=sub, message_id=f"msg_{uuid.uuid4().hex}", event=event,
            activity_id=activity.id, body=json.dumps(body, separators=(",", ":")),
            destination=destination_of(sub.url), due_at=now, pending_since=now,
            created_at=now, trace_parent=tracing.parent() or activity.trace_parent))
    return rows


def destination_of(url: str) -> str:
    try:
        return destinations.parse(url).destination
    except destinations.Refused:
        return url[:300]  # refused again at delivery, with its reason


def _data(activity: Activity, summary: dict | None) -> dict:
    # Who else may read it; never a position (no event carries one, so none about a
    # shared activity does either).
    data = {"activity_id": activity.id, "upload_id": activity.upload_id,
            "status": "failed" if activity.status == Activity.Status.DEAD else activity.status,
            "visibility": activity.visibility}
    if activity.error_code:
        data["error"] = {"code": activity.error_code, "message": activity.error_message}
    if summary is not None:
        data["summary"] = {k: summary[k] for k in FIGURES if summary.get(k) is not None}
    return data


def _strava_updates(changes: dict[str, str]) -> dict[str, str]:
    """Strava's `updates` names: title, type, and private ("true" or "false")."""
    names = {"name": "title", "sport": "type", "description": "description"}
    updates = {names[k]: v for k, v in changes.items() if k in names}
    if "visibility" in changes:
        updates["private"] = "true" if changes["visibility"] == "private" else "false"
    return updates


def _digest(summary: dict) -> str:
    return hashlib.sha256(json.dumps(summary, sort_keys=True, default=str).encode()).hexdigest()
