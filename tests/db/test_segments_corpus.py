"""A real ride uploaded twice, as its FIT file and converted to GPX: every segment made
from stretches of the FIT's track is matched on both, with the same efforts (start and
elapsed time within 1 s), whichever came first, the segments or the GPX."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from activities import ingest
from core import decode
from reconciler import sweep
from tests import gpxwriter
from tests.corpus import require_corpus

pytestmark = [pytest.mark.django_db, pytest.mark.corpus]

#: A 41 km ride, one point a second, that rides one stretch twice (a second lap).
RIDE = "fit/fitparse__Edge810-Vector-2013-08-16-15-35-10.fit"
STRETCHES = [(1000, 1600), (200, 700), (2000, 2900), (3300, 3600), (3900, 4600)]


def efforts(api, activity_id: int) -> dict[tuple[int, int], dict]:
    answer = api.get(f"/api/v1/activities/{activity_id}/efforts")
    assert answer.status_code == 200
    return {(e["segment_id"], e["lap"]): e for e in answer.json()["efforts"]}


def when(effort: dict) -> float:
    return datetime.fromisoformat(effort["start_time"]).timestamp()


@pytest.mark.parametrize("gpx_first", [False, True], ids=["segments-first", "gpx-first"])
def test_the_same_ride_as_gpx_matches_every_segment_made_from_the_fit(api, user, gpx_first):
    data = Path(require_corpus(), RIDE).read_bytes()
    fit = ingest.accept(data, owner=user, original_name="ride.fit").activity.id
    track = decode.decode(data, "fit")
    if gpx_first:  # matched by the segments' backfill
        gpx = ingest.accept(gpxwriter.gpx(track), owner=user,
                            original_name="ride.gpx").activity.id
    sweep.drain()
    segments = []
    for start, end in STRETCHES:
        made = api.post("/api/v1/segments", json.dumps(
            {"name": f"{start}-{end}", "activity_id": fit, "start_index": start,
             "end_index": end}), content_type="application/json")
        assert made.status_code == 201, made.content
        segments.append(made.json()["id"])
    sweep.drain()
    if not gpx_first:  # matched against the segments near it, through the cells
        gpx = ingest.accept(gpxwriter.gpx(track), owner=user,
                            original_name="ride.gpx").activity.id
        sweep.drain()
    from_fit, from_gpx = efforts(api, fit), efforts(api, gpx)
    assert {s for s, _ in from_fit} == set(segments)  # each stretch rides itself
    assert from_fit.keys() == from_gpx.keys()
    assert len(from_fit) > len(segments)  # the ride's second lap over the first stretch
    for key, one in from_fit.items():
        other = from_gpx[key]
        assert abs(one["elapsed_s"] - other["elapsed_s"]) <= 1.0, key
        assert abs(when(one) - when(other)) <= 1.0, key
    # The FIT's own stretches start and end on the points they were made from (the ride
    # passes some of them twice: either lap).
    for segment, stretch in zip(segments, STRETCHES, strict=True):
        laps = {(e["start_index"], e["end_index"]) for (s, _), e in from_fit.items()
                if s == segment}
        assert stretch in laps
