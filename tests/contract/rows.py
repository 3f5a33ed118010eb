"""How the contract suite makes a due row of each kind of work (and knows it finished):
one entry per registered kind. A kind registered without one fails the suite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests import factories


@dataclass(frozen=True)
class Rows:
    #: A due row of the kind, owned by `user`: its id.
    make: Callable[..., int]
    #: Whether its work reads the store of originals (the store-away contract).
    uses_store: bool = False


def _session(user, *, now) -> int:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from transfers import sessions
    from transfers.models import UploadSession

    data = factories.gpx(points=40)
    session = sessions.open_session(owner=user, via=UploadSession.Via.PRESIGNED,
                                    filename="ride.gpx", size=len(data), now=now)
    default_storage.save(session.key, ContentFile(data))
    sessions.nudge(session.id)
    return session.id


def _activity(user, *, now) -> int:
    from activities import ingest

    return ingest.accept(factories.gpx(points=40), owner=user,
                         original_name="ride.gpx").activity.id


def _deletion(user, *, now) -> int:
    from activities import deletion, ingest
    from activities.models import Activity

    activity = ingest.accept(factories.gpx(points=40), owner=user,
                             original_name="ride.gpx").activity
    # Settled first, so that only the deletion is owed.
    Activity.objects.filter(id=activity.id).update(needs_work=False)
    deletion.request(Activity.objects.filter(id=activity.id), now=now)
    return activity.id


def _archive(user, *, now) -> int:
    from django.core.files.base import ContentFile

    from activities import ingest

    data = factories.archive([("a.gpx", factories.gpx(points=40))])
    accepted = ingest.accept_file(ContentFile(data), owner=user, original_name="export.zip")
    return accepted.upload.archive.id


def _book(user, *, now) -> int:
    from records import flags
    from records.models import Book

    flags.mark([user.id], now=now)
    return Book.objects.get(user=user).id


def _training(user, *, now) -> int:
    from training import flags
    from training.models import Book

    flags.mark([user.id], now=now)
    return Book.objects.get(user=user).id


def _duplicates(user, *, now) -> int:
    from duplicates import flags
    from duplicates.models import Check

    flags.mark([user.id], now=now)
    return Check.objects.get(user=user).id


def _delivery(user, *, now) -> int:
    import uuid

    from webhooks.models import Delivery, Subscription

    # Port 9 on loopback: the delivery's POST is refused (an address webhooks may not
    # call), a quick transient failure: the contract is about the lease, not the post.
    url = "http://127.0.0.1:9/hook"
    sub = Subscription.objects.create(owner=user, url=url, events=["upload.ready"],
                                      secret="whsec_" + "A" * 43, created_at=now)
    return Delivery.objects.create(subscription=sub, message_id=f"msg_{uuid.uuid4().hex}",
                                   event="upload.ready", body="{}",
                                   destination="http://127.0.0.1:9", created_at=now,
                                   due_at=now, pending_since=now).id


def _preview(user, *, now) -> int:
    from activities import ingest
    from core import derivers
    from reconciler.models import PreviewSample, Rollout

    activity = ingest.accept(factories.gpx(points=40), owner=user,
                             original_name="ride.gpx").activity
    # A rollout of this code's `preview` version, in preview: its samples are due.
    rollout, _ = Rollout.objects.get_or_create(
        deriver="preview", version=derivers.VERSIONS["preview"],
        defaults={"state": Rollout.State.PREVIEW, "started_at": now})
    return PreviewSample.objects.create(rollout=rollout, activity=activity, stratum="named",
                                        due_at=now, pending_since=now).id


def _segment(user, *, now) -> int:
    from core.segments import shape
    from segments import editing

    drawn = shape.from_points([[46.0, 14.5], [46.0, 14.51]])
    return editing.create(user, "a road", drawn, now=now).id


def _segment_match(user, *, now) -> int:
    from activities import ingest
    from segments import flags
    from segments.models import ActivityMatch

    activity = ingest.accept(factories.gpx(points=40), owner=user,
                             original_name="ride.gpx").activity
    flags.mark([(activity.id, user.id)], now=now)
    return ActivityMatch.objects.get(activity=activity).id
def _export(user, *, now) -> int:
    from activities import ingest
    from exports import requests

    # One activity, so that the build reads an original from the store as well as saving
    # the zip there.
    ingest.accept(factories.gpx(points=40), owner=user, original_name="ride.gpx")
    return requests.start(user, contents="both", fmt="gpx").id


def _public(user, *, now) -> int:
    from activities import ingest
    from sharing import flags
    from sharing.models import PublicCopy

    activity = ingest.accept(factories.gpx(points=40), owner=user,
                             original_name="ride.gpx").activity
    flags.mark([(activity.id, user.id)], now=now)
    return PublicCopy.objects.get(activity=activity).id


def _public_heat(user, *, now) -> int:
    from activities import ingest
    from activities.models import Activity
    from sharing import flags
    from sharing.models import PublicHeat

    activity = ingest.accept(factories.gpx(points=40), owner=user,
                             original_name="ride.gpx").activity
    Activity.objects.filter(id=activity.id).update(visibility="public")
    flags.heat_changed([user.id], now=now)
    return PublicHeat.objects.get(user=user).id


ROWS: dict[str, Rows] = {
    "session": Rows(_session, uses_store=True),
    "activity": Rows(_activity, uses_store=True),
    "deletion": Rows(_deletion),
    "archive": Rows(_archive, uses_store=True),
    "book": Rows(_book),
    "training": Rows(_training),
    "duplicates": Rows(_duplicates),
    "delivery": Rows(_delivery),
    "preview": Rows(_preview),
    "segment": Rows(_segment),
    "segment_match": Rows(_segment_match),
    "export": Rows(_export, uses_store=True),
    "public": Rows(_public),
    "public_heat": Rows(_public_heat),
}
