"""Run inside a benchmark site (`python -m bench.segments_probe ACTIVITIES SEGMENTS RUNS`):
fill it, time matching and a backfill in this process, and print one JSON object.

1. SEGMENTS segments of one user, 1 km each, started at random in a 60 km square (about
   three per km², a busy rider's whole region), and 20 more cut from the ride below.
2. Matching: a one-hour ride (3,600 points, 29 km) across the square is matched as a new
   activity is (the segment_match kind's run, claimed and released): candidates read
   (segments indexed under the cells of its path) and milliseconds, RUNS times.
3. Backfill: another user with ACTIVITIES processed activities (30-minute rides, 1,800
   points each, their tracks stored as the track deriver stores them), a tenth of them
   along one road, the rest elsewhere in the square (a third of those with boxes that
   hold the road's start, so their tracks are read too); a new 1 km segment on that road
   is backfilled (the segment kind, drained): seconds, activities per second, tracks read.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402

from activities.models import Activity, Derived, Upload  # noqa: E402
from core import derivers  # noqa: E402
from core import track as tracks  # noqa: E402
from core.segments import cells, match, shape  # noqa: E402
from core.track import Track  # noqa: E402
from segments import editing, flags, matching  # noqa: E402
from segments import kind as kinds  # noqa: E402
from segments.models import ActivityMatch, Effort, Segment, SegmentCell  # noqa: E402
from work import clock, leases, run  # noqa: E402
from work.models import Attempt  # noqa: E402

LAT0, LON0 = 45.0, 6.0
M_LAT = np.radians(1.0) * 6_371_008.8
M_LON = M_LAT * np.cos(np.radians(LAT0))
SQUARE_M = 60_000.0
TEMPLATES = 20


def degrees(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return LAT0 + np.asarray(y) / M_LAT, LON0 + np.asarray(x) / M_LON


def ride(waypoints: list[tuple[float, float]], *, seconds: int, t0: float) -> Track:
    """The polyline ridden at a steady pace over `seconds`, one point a second."""
    path = np.asarray(waypoints, dtype=float)
    along = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(path, axis=0).T))])
    s = np.linspace(0.0, along[-1], seconds)
    lat, lon = degrees(np.interp(s, along, path[:, 0]), np.interp(s, along, path[:, 1]))
    t = np.arange(seconds, dtype=float)
    return Track(format="fit", columns={"time": t0 + t, "lat": lat, "lon": lon,
                                        "ele": 300 + 10 * np.sin(t / 60),
                                        "hr": 130 + 10 * np.sin(t / 300)})


def user(name: str):
    return get_user_model().objects.create_user(name)


def activities(owner, stored: list[Track], count: int) -> list[int]:
    """`count` ready activities whose stored tracks are `stored`, round-robin, each with its
    ActivityMatch row settled (matched at this version), as a processed history is."""
    now = clock.now()
    upload = Upload.objects.create(owner=owner, sha256="x" * 64, size_bytes=1,
                                   original_name="", file_name="")
    made = Activity.objects.bulk_create([
        Activity(owner=owner, upload=upload, format="fit", sha256=f"{n:064x}",
                 file_name="x", size_bytes=1, status=Activity.Status.READY, needs_work=False,
                 due_at=now) for n in range(count)], batch_size=2000)
    blobs = [tracks.encode(t) for t in stored]
    boxes = [matching.bbox(t) for t in stored]
    version = derivers.VERSIONS["track"]
    Derived.objects.bulk_create([
        Derived(activity=a, deriver="track", version=version, status=Derived.Status.READY,
                data=blobs[n % len(blobs)], digest=derivers.digest(blobs[n % len(blobs)]),
                updated_at=now) for n, a in enumerate(made)], batch_size=500)
    ActivityMatch.objects.bulk_create([
        ActivityMatch(activity=a, owner=owner, version=match.VERSION, needs_work=False,
                      due_at=now, status=ActivityMatch.Status.READY,
                      **boxes[n % len(boxes)]) for n, a in enumerate(made)], batch_size=2000)
    return [a.id for a in made]


def segments(owner, count: int, rng: np.random.Generator) -> None:
    now = clock.now()
    rows, index = [], []
    for _ in range(count):
        x, y = rng.uniform(0, SQUARE_M, 2)
        angle = rng.uniform(0, 2 * np.pi)
        lat, lon = degrees(np.array([x, x + 1000 * np.cos(angle)]),
                           np.array([y, y + 1000 * np.sin(angle)]))
        drawn = shape.from_points(np.column_stack([lat, lon]).tolist())
        rows.append(Segment(owner=owner, name="s", points=matching.points_of(drawn),
                            polyline=drawn.polyline, distance_m=drawn.distance_m,
                            ascent_m=None, **drawn.bbox, start_cell=cells.start_cell(drawn),
                            created_at=now, needs_work=False, due_at=now,
                            status=Segment.Status.READY))
    made = Segment.objects.bulk_create(rows, batch_size=2000)
    index = [SegmentCell(owner=owner, cell=s.start_cell, segment=s) for s in made]
    SegmentCell.objects.bulk_create(index, batch_size=2000)


def matching_cost(segment_count: int, runs: int) -> dict:
    rng = np.random.default_rng(7)
    owner = user("many-segments")
    segments(owner, segment_count, rng)
    # Across the square, with a few turns.
    new = ride([(2000, 5000), (20000, 12000), (26000, 25000), (30000, 30000)], seconds=3600,
               t0=1.7e9)
    [activity] = activities(owner, [new], 1)
    for start in range(100, 3500, 170):  # 20 segments cut from the ride itself
        cut = shape.from_track(new, start_index=start, end_index=start + 120)
        editing.create(owner, "own", cut, now=clock.now())
    Segment.objects.update(needs_work=False)  # no backfill: only the activity's match
    ms, candidates, efforts = [], [], []
    for _ in range(runs):
        flags.mark([(activity, owner.id)], now=clock.now())
        taken = leases.claim(kinds.MATCH, limit=1, now=clock.now(), owner="bench",
                             trigger=Attempt.Trigger.SWEEP)
        started = time.perf_counter()
        run.run(kinds.MATCH, taken)
        ms.append((time.perf_counter() - started) * 1000)
        row = ActivityMatch.objects.get(activity_id=activity)
        candidates.append(row.candidates)
        efforts.append(row.efforts)
    return {"match_ms": ms, "candidates": candidates[-1], "efforts": efforts[-1],
            "segments": Segment.objects.filter(owner=owner).count(),
            "cells": len(cells.cells_for_track(new, margin_m=matching.tolerance_m()))}


def backfill_rate(activity_count: int) -> dict:
    owner = user("many-activities")
    rng = np.random.default_rng(11)
    stored = []
    for n in range(TEMPLATES):
        if n < TEMPLATES // 10:  # along the road, 14 km at 8 m/s
            stored.append(ride([(-2000 - 500 * n, 0), (12000, 0)], seconds=1800, t0=1.6e9 + n))
            continue
        x, y = rng.uniform(2000, SQUARE_M - 2000, 2)
        points = [(x, y)] + [(x + rng.uniform(-7000, 7000), y + rng.uniform(-7000, 7000))
                             for _ in range(3)]
        if n % 3 == 0:  # its box holds the road's start, it passes 700 m from it
            points = [(-3000, -2000 - 100 * n), (3000, 600), (3000, 5000)]
        stored.append(ride(points, seconds=1800, t0=1.6e9 + n))
    activities(owner, stored, activity_count)
    road = shape.from_points(np.column_stack(degrees(np.array([0.0, 1000.0]),
                                                     np.array([0.0, 0.0]))).tolist())
    segment = editing.create(owner, "road", road, now=clock.now())
    started = time.perf_counter()
    while True:
        taken = leases.claim(kinds.SEGMENT, limit=2, now=clock.now(), owner="bench",
                             trigger=Attempt.Trigger.SWEEP)
        if not taken:
            break
        run.run(kinds.SEGMENT, taken)
    seconds = time.perf_counter() - started
    details = list(Attempt.objects.filter(kind="segment", row_id=segment.id)
                   .values_list("detail", flat=True))
    read = sum(d.get("activities_read", 0) for d in details)
    found = Effort.objects.filter(segment=segment).count()
    assert found == activity_count // TEMPLATES * (TEMPLATES // 10) + min(
        activity_count % TEMPLATES, TEMPLATES // 10), found
    return {"seconds": seconds, "activities": activity_count, "tracks_read": read,
            "efforts": found, "leases": len(details)}


if __name__ == "__main__":
    activity_count, segment_count, runs = (int(v) for v in sys.argv[1:4])
    result = {"match": matching_cost(segment_count, runs),
              "backfill": backfill_rate(activity_count)}
    print(json.dumps(result))
