"""What a non-owner may read, and when: a shared activity's public copy, only if it was
built by this code from its owner's current privacy version. Checked in one statement
(the copy joined to the owner's privacy row and to the activity), so that a read never
pairs a copy with a version read at another moment."""

from __future__ import annotations

from django.db.models import F

from activities.models import Activity, Visibility
from core import heatmap
from sharing import build
from sharing import heat as heat_code
from sharing.models import PublicCopy, PublicHeat

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


def heat(owner_id: int) -> tuple[bool, heatmap.Heat | None, PublicHeat | None]:
    """(whether the owner's public heatmap is current, its regions, its row). Current: drawn
    by this code for the owner's present privacy version, checked in one statement; a
    row that is not is never read further (its routes may cross a zone saved since)."""
    row = (PublicHeat.objects.filter(user_id=owner_id)
           .annotate(current_privacy=F("user__privacy__version"))
           .only("version", "privacy_version", "status", "built_at", "heat", "routes",
                 "needs_work").first())
    if row is None:
        return False, None, None
    if not (row.status == PublicHeat.Status.READY and row.version == heat_code.VERSION
            and row.privacy_version == row.current_privacy):
        return False, None, row
    return True, heatmap.Heat.loads(bytes(row.heat)) if row.heat else None, row
