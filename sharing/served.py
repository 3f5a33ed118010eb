"""What a non-owner may read, and when: a shared activity's public copy, only if it was
built by this code from its owner's current privacy version. Checked in one statement
(the copy joined to the owner's privacy row and to the activity), so that a read never
pairs a copy with a version read at another moment."""

from __future__ import annotations

from django.db.models import F

from activities.models import Activity, Visibility
from sharing import build
from sharing.models import PublicCopy

SHARED = (Visibility.UNLISTED, Visibility.PUBLIC)

#: Seconds a client is told to wait while a copy is rebuilt.
RETRY_AFTER_S = 5


def shared(share_id: str) -> Activity | None:
    """The live shared activity of this link, or None (private, deleted, never was)."""
    return Activity.objects.filter(share_id=share_id, deleted_at__isnull=True,
                                   visibility__in=SHARED).first()


def current(share_id: str, *fields: str) -> dict | None:
    """The copy's `fields` (and its activity's id) if it is current for others to read;
    None if the link is not shared or the copy is old or being built."""
    return (PublicCopy.objects.filter(
        activity__share_id=share_id, activity__deleted_at__isnull=True,
        activity__visibility__in=SHARED, status=PublicCopy.Status.READY,
        version=build.VERSION, privacy_version=F("owner__privacy__version"))
        .values("activity_id", *fields).first())
