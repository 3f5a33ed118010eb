"""Running a user's duplicates check: the duplicates kind's work (duplicates.kind leases
and releases it). A footprint is made for each activity whose track is new or moved (its
digest), removed for activities gone; then only the activities whose time ranges overlap
another's are read for their positions (core.duplicates.candidates), their pairs found,
pairs kept apart by their owner left out, and each activity's `duplicate_of` set to the
one kept (core.duplicates.primary) or cleared. The rows are written under the fence."""

from __future__ import annotations

import time

import structlog
from django.db import transaction
from django.db.models import Case, F, Value, When

from activities.models import Activity, Derived
from core import duplicates
from core import track as tracks
from duplicates.models import Check, Footprint, KeptPair
from work import clock, leases
from work.kinds import Kind
from work.leases import Lease
from work.outcomes import Done, Outcome, Retry

log = structlog.get_logger(__name__)

#: The version of the check; bump it with any change to core.duplicates that changes a
#: footprint or a pair, and every user's check runs whole again.
#: 1: time overlap over half the shorter, median distance under 100 m at the same instants.
VERSION = 1

#: Tracks decoded per read while making footprints.
CHUNK = 200
#: Footprints made per lease (a few seconds of decoding); more are made by the next run,
#: due at once. Pairs are looked for once every footprint is made.
TRACKS_PER_RUN = 2000


def run(kind: Kind, lease: Lease) -> Outcome:
    started = time.monotonic()
    check = Check.objects.values("user_id", "whole", "version").get(id=lease.row_id)
    user_id = check["user_id"]
    bound = log.bind(user_id=user_id, check_id=lease.row_id, lease_token=lease.token)
    # A whole run (a re-sync, a new version) forgets every footprint first; they are made
    # again like new ones, at most TRACKS_PER_RUN a lease, so a user with many activities
    # never holds one lease for all of them.
    whole = check["whole"] or check["version"] != VERSION
    try:
        made, gone, more = footprints(user_id, whole=whole)
        with transaction.atomic():
            leases.hold(kind, lease, now=clock.now())
            forgotten = Footprint.objects.filter(user_id=user_id) if whole else (
                Footprint.objects.filter(activity_id__in=[*gone, *(f.activity_id
                                                                   for f in made)]))
            forgotten.delete()
            Footprint.objects.bulk_create(made)
            pairs = [] if more else found_pairs(user_id)
            changed = 0 if more else write_duplicates(user_id, pairs)
    except leases.LeaseLost:
        raise
    except Exception as error:  # noqa: BLE001 (this check's outcome)
        bound.exception("duplicates.check_failed", error=f"{type(error).__name__}: {error}")
        return Retry(type(error).__name__,
                     f"Looking for duplicates failed unexpectedly ({type(error).__name__}); "
                     f"it will be retried.")
    detail = {"footprints_made": len(made), "footprints_removed": len(gone),
              "more": more, "pairs": len(pairs), "activities_changed": changed,
              "duration_ms": round((time.monotonic() - started) * 1000)}
    bound.info("duplicates.checked", **detail)
    # Asked for whole again meanwhile (a new generation): stays asked for.
    not_whole = Case(When(generation=lease.generation, then=Value(False)), default=F("whole"))
    if more:  # footprints left to make: due again at once, the rest made as new ones
        return Done(fields={"whole": not_whole, "version": VERSION}, detail=detail,
                    again=True)
    return Done(fields={
        "version": VERSION, "status": Check.Status.READY, "built_at": clock.now(),
        "error_code": "", "error_message": "", "pairs": [list(p) for p in pairs],
        "whole": not_whole}, detail=detail)


def footprints(user_id: int, *, whole: bool) -> tuple[list[Footprint], list[int], bool]:
    """Footprints to (re)write (unsaved, at most TRACKS_PER_RUN), activity ids whose
    footprint goes, and whether more are left to make after these."""
    ready = {i: _bytes(d) for i, d in Derived.objects.filter(
        activity__owner_id=user_id, activity__deleted_at__isnull=True, deriver="track",
        status=Derived.Status.READY, data__isnull=False).values_list("activity_id", "digest")}
    stored = {} if whole else {i: _bytes(d) for i, d in Footprint.objects.filter(
        user_id=user_id).values_list("activity_id", "track_digest")}
    # A footprint is made again when its track's digest moved. A track without a digest
    # (stored before they were kept) gets one footprint, made once, as any other: made
    # again each run, the same first TRACKS_PER_RUN would be made for ever; its next
    # derivation stores a digest, and that is a move.
    todo = sorted(i for i, digest in ready.items()
                  if i not in stored or stored[i] != digest)
    gone = sorted(stored.keys() - ready.keys())
    more = len(todo) > TRACKS_PER_RUN
    todo = todo[:TRACKS_PER_RUN]
    made = []
    for start in range(0, len(todo), CHUNK):
        rows = Derived.objects.filter(activity_id__in=todo[start:start + CHUNK],
                                      deriver="track", status=Derived.Status.READY)
        for activity_id, blob, digest in rows.values_list("activity_id", "data", "digest"):
            made.append(_footprint(user_id, activity_id, tracks.decode(bytes(blob)),
                                   _bytes(digest)))
    return made, gone, more


def _bytes(value) -> bytes | None:
    return bytes(value) if value is not None else None


def _footprint(user_id: int, activity_id: int, track, digest: str) -> Footprint:
    found = duplicates.of_track(track)
    if found is None:  # no times: nothing places it, it pairs with nothing
        return Footprint(user_id=user_id, activity_id=activity_id, track_digest=digest,
                         start=0.0, end=0.0, streams=duplicates.streams(track),
                         points=track.n, data=b"")
    return Footprint(user_id=user_id, activity_id=activity_id, track_digest=digest,
                     start=found.start, end=found.end, streams=duplicates.streams(track),
                     points=track.n, data=duplicates.encode(found))


def found_pairs(user_id: int) -> list[tuple[int, int]]:
    """(kept, duplicate) for each probable pair of the user's counted activities (live,
    not merged) not kept apart by their owner; positions read only for those whose times
    overlap another's."""
    live = set(Activity.objects.counted().filter(owner_id=user_id).values_list("id", flat=True))
    spans = {i: (s, e) for i, s, e in Footprint.objects.filter(user_id=user_id, end__gt=0)
             .values_list("activity_id", "start", "end") if i in live}
    near = duplicates.candidates(spans)
    rows = {row.activity_id: row for row in Footprint.objects.filter(activity_id__in=near)}
    prints = {i: duplicates.decode(r.start, r.end, bytes(r.data)) for i, r in rows.items()}
    apart = set(KeptPair.objects.filter(user_id=user_id).values_list("first_id", "second_id"))
    pairs = []
    for low, high in duplicates.pairs(prints):
        if (low, high) in apart:
            continue
        kept = duplicates.primary((low, rows[low].streams, rows[low].points),
                                  (high, rows[high].streams, rows[high].points))
        pairs.append((kept, high if kept == low else low))
    return pairs


def write_duplicates(user_id: int, pairs: list[tuple[int, int]]) -> int:
    """Each duplicate points at the one kept (one paired with several, at the first in id
    order; one kept in a pair is never marked itself); every other activity of the user
    points at none. Returns how many rows changed."""
    wanted: dict[int, int] = {}
    for kept, duplicate in sorted(pairs):
        if duplicate not in wanted and kept not in wanted:
            wanted[duplicate] = kept
    current = dict(Activity.objects.filter(owner_id=user_id, duplicate_of__isnull=False)
                   .values_list("id", "duplicate_of_id"))
    changed = 0
    for activity_id in current.keys() - wanted.keys():
        changed += Activity.objects.filter(id=activity_id).update(duplicate_of=None)
    for activity_id, kept in wanted.items():
        if current.get(activity_id) != kept:
            # Never one merged meanwhile (pairs read before its merge committed): a
            # merged activity is marked no more.
            changed += Activity.objects.filter(id=activity_id, merged_into__isnull=True
                                               ).update(duplicate_of_id=kept)
    return changed
