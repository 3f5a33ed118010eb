"""Segments kept current by the loop, both ways: a new segment finds exactly the past
activities that ride it (in chunks, behind fresh uploads), a new activity the segments
near it (through the cells, never every segment), a matcher version bump matches
everything again, a deleted activity loses its efforts at once, and a segment made while
an activity was being matched is never missed."""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from django.core.management import call_command

from core.segments import match
from reconciler import sweep
from segments import kind as segment_kinds
from segments import outdated
from segments.models import ActivityMatch, Effort, Segment
from tests import bumps
from tests import segmentrides as rides
from work import clock, leases, run
from work.models import Attempt

pytestmark = pytest.mark.django_db


def make(api, points=None) -> int:
    answer = api.post("/api/v1/segments", json.dumps(
        {"name": "Road", "points": points or rides.road_points()}),
        content_type="application/json")
    assert answer.status_code == 201, answer.content
    return answer.json()["id"]


def test_a_segment_made_after_200_activities_finds_exactly_those_that_ride_it(api, user):
    passing = {rides.upload(user, rides.ON, speed_mps=5.0 + n / 50, shift_s=3600 * n)
               for n in range(100)}
    for n in range(60):  # the parallel road, 40 m away
        rides.upload(user, rides.BESIDE, speed_mps=6.0, shift_s=-3600 * (n + 1))
    for n in range(40):
        rides.upload(user, rides.FAR, speed_mps=6.0, shift_s=-10**6 - 3600 * n)
    sweep.drain()
    assert ActivityMatch.objects.filter(version=match.VERSION, needs_work=False).count() == 200
    segment = make(api)
    started = time.monotonic()
    sweep.drain()
    took = time.monotonic() - started
    found = Effort.objects.filter(segment_id=segment)
    assert set(found.values_list("activity_id", flat=True)) == passing
    assert found.count() == 100  # one each
    assert Segment.objects.get(id=segment).status == Segment.Status.READY
    for effort in found:
        speed = 1000.0 / effort.elapsed_s
        assert effort.average_speed_mps == pytest.approx(speed, rel=1e-6)
    print(f"backfill of 200 activities: {took:.2f} s")


def test_the_backfill_goes_in_chunks_and_fresh_uploads_still_first(api, user, settings):
    settings.CAIRN_SEGMENTS_BACKFILL_CHUNK = 5
    settings.CAIRN_SEGMENTS_BACKFILL_BATCH = 1
    past = [rides.upload(user, rides.ON, speed_mps=6.0, shift_s=3600 * n) for n in range(12)]
    sweep.drain()
    segment = make(api)
    fresh = rides.upload(user, rides.ON, speed_mps=9.0, shift_s=-3600)
    sweep.sweep_once()
    # One round: the upload derived and matched; one chunk of the backfill.
    assert Effort.objects.filter(segment_id=segment, activity_id=fresh).count() == 1
    assert Effort.objects.filter(segment_id=segment).count() <= 1 + 5
    assert Segment.objects.get(id=segment).needs_work
    sweep.drain()
    assert set(Effort.objects.filter(segment_id=segment).values_list("activity_id", flat=True)
               ) == {*past, fresh}
    chunks = [a.detail for a in Attempt.objects
              .filter(kind="segment", row_id=segment).order_by("id")]
    assert len(chunks) >= 3 and all(c["candidates"] <= 5 for c in chunks)


def test_a_new_activity_reads_only_the_segments_near_it(api, user):
    near = make(api)
    far = [make(api, rides.rides_points([(0, 20_000 + 3000 * n), (1000, 20_000 + 3000 * n)]))
           for n in range(5)]
    sweep.drain()
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    sweep.drain()
    row = ActivityMatch.objects.get(activity_id=activity)
    assert row.candidates == 1 and row.efforts == 1 and row.version == match.VERSION
    [effort] = Effort.objects.filter(activity_id=activity)
    assert effort.segment_id == near and effort.elapsed_s == pytest.approx(125.0, abs=0.01)
    assert not Effort.objects.filter(segment_id__in=far).exists()


def test_deleting_the_best_efforts_activity_makes_the_next_one_best(api, user):
    best = rides.upload(user, rides.ON, speed_mps=9.0)
    second = rides.upload(user, rides.ON, speed_mps=8.0, shift_s=3600)
    rides.upload(user, rides.ON, speed_mps=7.0, shift_s=7200)
    segment = make(api)
    sweep.drain()
    ranks = {e["activity_id"]: e["rank"] for e in
             api.get(f"/api/v1/segments/{segment}/efforts").json()["efforts"]}
    assert ranks[best] == 1 and ranks[second] == 2
    assert api.delete(f"/api/v1/activities/{best}").status_code == 204
    # At once, before any sweep: the efforts went with the deletion's transaction.
    listed = api.get(f"/api/v1/segments/{segment}/efforts").json()["efforts"]
    assert [(e["activity_id"], e["rank"]) for e in listed][0] == (second, 1)
    assert best not in {e["activity_id"] for e in listed}
    sweep.drain()
    assert not ActivityMatch.objects.filter(activity_id=best).exists()
    assert api.get(f"/api/v1/segments/{segment}/efforts").json()["efforts"] == listed


def test_a_matcher_version_bump_matches_every_activity_again(api, user, monkeypatch):
    ids = [rides.upload(user, rides.ON, speed_mps=6.0 + n, shift_s=3600 * n) for n in range(3)]
    segment = make(api)
    sweep.drain()
    before = sorted(Effort.objects.values_list("activity_id", "elapsed_s"))
    assert len(before) == 3
    monkeypatch.setattr(match, "VERSION", match.VERSION + 1)
    outdated.SEEN.reset()  # a bump is a deploy: a new process looks at once
    sweep.drain()
    rows = ActivityMatch.objects.filter(activity_id__in=ids)
    assert {r.version for r in rows} == {match.VERSION}
    assert sorted(Effort.objects.values_list("activity_id", "elapsed_s")) == before
    assert Segment.objects.get(id=segment).status == Segment.Status.READY


def test_a_segment_made_while_an_activity_is_being_matched_is_not_missed(api, user,
                                                                          monkeypatch):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    sweep.drain()
    ActivityMatch.objects.filter(activity_id=activity).update(needs_work=True)
    now = clock.now()
    [held] = leases.claim(segment_kinds.MATCH, limit=10, now=now, owner="slow",
                          trigger="sweep")
    segment = make(api)
    # The backfill runs while the match is held: it asks the match again.
    taken = leases.claim(segment_kinds.SEGMENT, limit=10, now=clock.now(), owner="b",
                         trigger="sweep")
    run.run(segment_kinds.SEGMENT, taken)
    assert not Effort.objects.exists()
    # The held match had read the segments before this one existed.
    monkeypatch.setattr("segments.matching.near", lambda owner_id, track: [])
    run.run(segment_kinds.MATCH, [held])
    assert ActivityMatch.objects.get(activity_id=activity).needs_work  # asked again
    monkeypatch.undo()
    sweep.drain()
    assert list(Effort.objects.values_list("segment_id", "activity_id")) == [
        (segment, activity)]


def test_resync_matches_again_and_revives_the_dead(api, user, capsys):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    make(api)
    sweep.drain()
    ActivityMatch.objects.filter(activity_id=activity).update(
        status=ActivityMatch.Status.DEAD, attempts=5)
    Effort.objects.all().delete()
    call_command("resync", "--deriver", "segments", "--dead")
    assert json.loads(capsys.readouterr().out) == {"resynced": 1, "deriver": "segments"}
    sweep.drain()
    assert Effort.objects.filter(activity_id=activity).count() == 1
    assert ActivityMatch.objects.get(activity_id=activity).status == ActivityMatch.Status.READY


def test_activities_from_before_segments_get_their_match_rows(api, user):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    sweep.drain()
    ActivityMatch.objects.all().delete()  # as if processed before this app existed,
    outdated.SEEN.reset()  # and this app deployed since: a new process
    segment = make(api)
    sweep.drain()
    assert ActivityMatch.objects.get(activity_id=activity).version == match.VERSION
    assert Effort.objects.filter(segment_id=segment, activity_id=activity).count() == 1


def test_a_segment_or_activity_deleted_while_leased_converges_and_writes_nothing(api, user):
    activity = rides.upload(user, rides.ON, speed_mps=8.0)
    sweep.drain()
    segment = make(api)
    ActivityMatch.objects.filter(activity_id=activity).update(needs_work=True)
    [backfill] = leases.claim(segment_kinds.SEGMENT, limit=1, now=clock.now(), owner="a",
                              trigger="sweep")
    [matching] = leases.claim(segment_kinds.MATCH, limit=1, now=clock.now(), owner="a",
                              trigger="sweep")
    assert api.delete(f"/api/v1/segments/{segment}").status_code == 204
    assert api.delete(f"/api/v1/activities/{activity}").status_code == 204
    assert run.run(segment_kinds.SEGMENT, [backfill]) == {backfill.row_id: "converged"}
    assert run.run(segment_kinds.MATCH, [matching]) == {matching.row_id: "converged"}
    assert not Effort.objects.exists()


def cropped(original: bytes, edits: dict | None = None):
    """New track code (a deploy in the test) that keeps a recording's first 100 points."""
    from core.derivers.track import build_track

    whole = build_track(original, edits)
    return dataclasses.replace(whole, columns={k: v[:100] for k, v in whole.columns.items()})


def test_a_rebuilt_track_is_matched_again_and_a_crop_loses_its_effort(api, user, settings,
                                                                        monkeypatch):
    settings.CAIRN_ROLLOUT_PREVIEW = []  # the new track code promoted at once
    # 8 m/s from 200 m before the road: its first 100 points end 800 m in, before the end.
    cut = rides.upload(user, rides.ON, speed_mps=8.0)
    # 16 m/s: 100 points reach 1,400 m, past the road's end.
    kept = rides.upload(user, rides.ON, speed_mps=16.0, shift_s=3600)
    segment = make(api)
    sweep.drain()
    assert Effort.objects.filter(segment_id=segment).count() == 2
    bumps.bump(monkeypatch, "track", cropped)
    sweep.drain()
    assert list(Effort.objects.values_list("activity_id", flat=True)) == [kept]
    rows = {r.activity_id: r for r in ActivityMatch.objects.all()}
    assert not rows[cut].needs_work and rows[cut].efforts == 0
    assert rows[cut].priority == ActivityMatch.Priority.BACKFILL  # a rebuild, not an upload


def test_activities_without_rows_are_found_a_window_at_a_time(api, user, monkeypatch):
    ids = [rides.upload(user, rides.ON, speed_mps=6.0 + n, shift_s=3600 * n) for n in range(5)]
    sweep.drain()
    ActivityMatch.objects.all().delete()
    outdated.SEEN.reset()
    monkeypatch.setattr(outdated, "ACTIVITIES_PER_LOOK", 2)
    monkeypatch.setattr(outdated, "WINDOWS_PER_LOOK", 1)
    segment = make(api)
    flagged = [outdated.flag(now=clock.now(), batch=100, version=match.VERSION)
               for _ in range(4)]
    assert flagged == [2, 2, 1, 0]  # the last window runs to the end and wraps around
    sweep.drain()
    assert set(Effort.objects.filter(segment_id=segment).values_list("activity_id", flat=True)
               ) == set(ids)
