"""An activity written out as GPX, TCX or FIT: its stored track (the track deriver's output,
so the file is never decoded again) with the name, sport and description its owner sees.
The original stays as it was uploaded; this is a new file each time."""

from __future__ import annotations

from activities import names
from activities.models import Activity, Derived
from core import track as tracks
from core.writers import MEDIA_TYPES, Meta, write

FORMATS = tuple(MEDIA_TYPES)


class NotReady(Exception):
    """The activity has no track yet (being processed) or none at all (it failed)."""


def exported(activity: Activity, fmt: str) -> bytes:
    """The file, or NotReady; core.writers.WriteError when the track cannot be one."""
    blob = (Derived.objects.filter(activity=activity, deriver="track",
                                   status=Derived.Status.READY, data__isnull=False)
            .values_list("data", flat=True).first())
    if blob is None:
        raise NotReady
    meta = Meta(name=names.name_of(activity), sport=activity.shown_sport,
                description=activity.description)
    return write(tracks.decode(bytes(blob)), meta, fmt)
