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
    from activities import ingest
    from activities.models import Activity
    from reconciler import deletion

    activity = ingest.accept(factories.gpx(points=40), owner=user,
                             original_name="ride.gpx").activity
    # Settled first, so that only the deletion is owed.
    Activity.objects.filter(id=activity.id).update(needs_work=False)
    deletion.request(Activity.objects.filter(id=activity.id), now=now)
    return activity.id


def _archive(user, *, now) -> int:
    from activities import ingest

    data = factories.archive([("a.gpx", factories.gpx(points=40))])
    return ingest.accept(data, owner=user, original_name="export.zip").upload.archive.id


def _book(user, *, now) -> int:
    from records import flags
    from records.models import Book

    flags.mark([user.id], now=now)
    return Book.objects.get(user=user).id


ROWS: dict[str, Rows] = {
    "session": Rows(_session, uses_store=True),
    "activity": Rows(_activity, uses_store=True),
    "deletion": Rows(_deletion),
    "archive": Rows(_archive, uses_store=True),
    "book": Rows(_book),
}
