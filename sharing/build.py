"""Building a public copy: the kind `public`'s work (sharing.kind leases and releases it).

The owner's privacy version is read first, then their zones and trims, so that a copy is
never labelled newer than the settings it was cut with. The outputs are stored under two
fences in one transaction: the owner's privacy row, locked (a change of zones waits for
it, or it for the change), must still be at the version the copy was cut with, and the
kernel's lease must still be this worker's. A worker whose lease began before a change
therefore stores nothing; the change bumped the copy's generation, so it goes round again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import structlog
from django.db import transaction

from activities.models import Activity, Derived, Visibility
from core import privacy
from core import track as tracks
from core.derivers import CHARTS, PLAYBACK, DeriveError, preview, route
from core.derivers.base import JSON
from core.geo import bbox
from sharing import flags
from sharing.models import Privacy, PublicCopy, Zone
from work import clock, kinds, leases
from work.leases import Lease
from work.outcomes import Done, Outcome

log = structlog.get_logger(__name__)

#: The version of what a public copy holds; bump it with any change to core.privacy or
#: to what is built here, and every copy is rebuilt.
VERSION = 1

#: What a withdrawn copy keeps: nothing others could read.
WITHDRAWN = {"route": None, "playback": None, "charts": None, "preview": None, "track": None,
             "bbox": None, "hidden_points": 0, "privacy_version": 0,
             "status": PublicCopy.Status.WITHDRAWN}


@dataclass(frozen=True)
class Built:
    #: The owner's privacy version it was cut with (None: withdrawn, no privacy read).
    privacy_version: int | None
    fields: dict = field(default_factory=dict)


def rules_of(user_id: int) -> tuple[int, privacy.Rules]:
    """(the owner's privacy version, their rules), the version read first."""
    version, start, end = Privacy.objects.filter(user_id=user_id).values_list(
        "version", "trim_start_m", "trim_end_m").get()
    zones = tuple(privacy.Zone(lat, lon, radius) for lat, lon, radius in
                  Zone.objects.filter(user_id=user_id).values_list("lat", "lon", "radius_m"))
    return version, privacy.Rules(zones=zones, trim_start_m=start, trim_end_m=end)


def build(copy_id: int) -> Built:
    """What the copy should hold now."""
    activity_id, owner_id = PublicCopy.objects.values_list("activity_id", "owner_id").get(
        id=copy_id)
    activity = Activity.objects.filter(id=activity_id).only("visibility", "deleted_at").first()
    if activity is None or activity.deleted_at or activity.visibility == Visibility.PRIVATE:
        return Built(None, WITHDRAWN)
    version, rules = rules_of(owner_id)
    blob = (Derived.objects.filter(activity_id=activity_id, deriver="track",
                                   status=Derived.Status.READY, data__isnull=False)
            .values_list("data", flat=True).first())
    if blob is None:  # not derived yet: built again when its track settles (sharing.flags)
        return Built(version, {**WITHDRAWN, "status": PublicCopy.Status.QUEUED,
                               "privacy_version": version, "version": VERSION})
    whole = tracks.decode(bytes(blob))
    shown = privacy.cut(whole, rules)
    return Built(version, {
        "route": JSON.dumps(route.build_route(shown, join_many=False)),
        "preview": preview.draw_preview(shown, join_many=False).encode(),
        "playback": _or_none(PLAYBACK.derive, shown),
        "charts": _or_none(CHARTS.derive, shown),
        "track": tracks.encode(shown),
        "bbox": bbox(shown.lat, shown.lon) if shown.n else None,
        "hidden_points": whole.n - shown.n,
        "privacy_version": version, "version": VERSION, "status": PublicCopy.Status.READY,
        "error_code": "", "error_message": "",
    })


def _or_none(derive, shown: tracks.Track) -> bytes | None:
    """An output's JSON bytes, or None where the cut track cannot have one (too little
    left of it): served as not available."""
    try:
        return JSON.dumps(derive(shown))
    except DeriveError:
        return None


def store(lease: Lease, built: Built) -> bool:
    """Write the copy under both fences (the module docstring); False when the owner's
    privacy changed since it was cut (nothing written). LeaseLost when the lease is gone."""
    kind = kinds.get("public")
    with transaction.atomic():
        if built.privacy_version is not None:
            # The privacy row first, as a change locks it first: never a deadlock.
            owner = PublicCopy.objects.values_list("owner_id", flat=True).get(id=lease.row_id)
            current = (Privacy.objects.select_for_update().filter(user_id=owner)
                       .values_list("version", flat=True).get())
            if current != built.privacy_version:
                leases.hold(kind, lease, now=clock.now())
                return False
        leases.hold(kind, lease, now=clock.now())
        PublicCopy.objects.filter(id=lease.row_id).update(built_at=clock.now(), **built.fields)
        # What the owner's public heatmap is drawn from changed: drawn again.
        flags.heat_changed(PublicCopy.objects.filter(id=lease.row_id)
                           .values_list("owner_id", flat=True), now=clock.now())
    return True


def run(lease: Lease) -> Outcome:
    """The kind's work on one leased copy: build it, store it if its privacy is still
    current. Done either way: a copy cut with an old version stays due (its generation
    moved with the change)."""
    started = time.monotonic()
    built = build(lease.row_id)
    stored = store(lease, built)
    detail = {"stored": stored, "privacy_version": built.privacy_version,
              "status": built.fields.get("status"),
              "duration_ms": round((time.monotonic() - started) * 1000)}
    log.info("sharing.built" if stored else "sharing.superseded", copy_id=lease.row_id,
             **detail)
    return Done(detail=detail)
