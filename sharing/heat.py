"""Building an owner's public heatmap: the kind `public_heat`'s work (sharing.kind leases
and releases it).

It is drawn from the cut routes of the owner's public (not unlisted), counted activities'
public copies, and only from copies current for the privacy version read first: a copy
still being rebuilt after a change is left out (its store flags the heatmap again). It is
stored under the same two fences as a copy (sharing.build.store): the owner's privacy row,
locked, must still be at the version it was drawn for, and the lease still this worker's.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import numpy as np
import structlog
from django.db import transaction
from django.db.models import Q

from activities.models import Activity, Visibility
from core import heatmap
from sharing import build as copies
from sharing.models import Privacy, PublicCopy, PublicHeat
from work import clock, kinds, leases
from work.leases import Lease
from work.outcomes import Done, Outcome

log = structlog.get_logger(__name__)

#: The version of what a public heatmap holds; bump it with any change to what is drawn
#: here (core.heatmap included), and every one is rebuilt.
VERSION = 1

#: Copies' routes read per query.
CHUNK = 200


@dataclass(frozen=True)
class Built:
    privacy_version: int
    heat: heatmap.Heat | None
    routes: int


def current_copies(owner_id: int, privacy_version: int):
    """The owner's public copies a heatmap drawn for `privacy_version` may use: ready, of
    this code, cut with that version, of a public counted activity."""
    public = Activity.objects.counted().filter(owner_id=owner_id,
                                               visibility=Visibility.PUBLIC)
    return PublicCopy.objects.filter(owner_id=owner_id, activity__in=public,
                                     status=PublicCopy.Status.READY, version=copies.VERSION,
                                     privacy_version=privacy_version, route__isnull=False)


def segments(route: dict) -> list[np.ndarray]:
    """A cut route's points, one array per segment: a zone splits a route, and the line
    across the gap must not be drawn (it would cross the zone)."""
    points = np.asarray(route.get("points") or [], dtype=float).reshape(-1, 2)
    bounds = [*(route.get("segment_starts") or [0]), len(points)]
    return [points[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def build(user_id: int) -> Built:
    """The heatmap as it should be now, with the privacy version read first."""
    Privacy.objects.get_or_create(user_id=user_id)
    version = Privacy.objects.filter(user_id=user_id).values_list("version", flat=True).get()
    paths: list[np.ndarray] = []
    routes = 0
    for blob in (current_copies(user_id, version).order_by("id")
                 .values_list("route", flat=True).iterator(chunk_size=CHUNK)):
        routes += 1
        paths.extend(segments(json.loads(bytes(blob))))
    return Built(privacy_version=version, heat=heatmap.build(paths), routes=routes)


def store(lease: Lease, built: Built) -> bool:
    """Write the heatmap under both fences (the module docstring); False when the owner's
    privacy changed since it was drawn (nothing written). LeaseLost when the lease is gone."""
    kind = kinds.get("public_heat")
    with transaction.atomic():
        # The privacy row first, as a change locks it first: never a deadlock.
        owner = PublicHeat.objects.values_list("user_id", flat=True).get(id=lease.row_id)
        current = (Privacy.objects.select_for_update().filter(user_id=owner)
                   .values_list("version", flat=True).get())
        leases.hold(kind, lease, now=clock.now())
        if current != built.privacy_version:
            return False
        # A public activity withdrawn since the lease was taken (sharing.flags.
        # heat_withdrawn: not ready, a new generation) may be in this drawing: stored only
        # if nothing moved, or if the heatmap is still served (only added to since).
        fenced = PublicHeat.objects.filter(
            Q(generation=lease.generation) | Q(status=PublicHeat.Status.READY),
            id=lease.row_id)
        stored = fenced.update(
            built_at=clock.now(), heat=built.heat.dumps() if built.heat else None,
            routes=built.routes, privacy_version=built.privacy_version, version=VERSION,
            status=PublicHeat.Status.READY, error_code="", error_message="")
    return bool(stored)


def run(lease: Lease) -> Outcome:
    """The kind's work on one leased heatmap: draw it, store it if the owner's privacy is
    still the version it was drawn for. Done either way: one drawn for an old version
    stays due (the change moved its generation)."""
    started = time.monotonic()
    user_id = PublicHeat.objects.values_list("user_id", flat=True).get(id=lease.row_id)
    built = build(user_id)
    stored = store(lease, built)
    detail = {"stored": stored, "privacy_version": built.privacy_version,
              "routes": built.routes,
              "regions": len(built.heat.regions) if built.heat else 0,
              "duration_ms": round((time.monotonic() - started) * 1000)}
    log.info("sharing.heatmap_built" if stored else "sharing.heatmap_superseded",
             heat_id=lease.row_id, **detail)
    return Done(detail=detail)
