"""Matching a track to a segment: which passages count, and how they are timed.

Every ride is built here in local metres at known speeds, so each expected time is the
construction's own (distance over speed, or the time the ride is at a place).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from core.segments import match, shape
from core.track import Track
from tests import rides

#: A 1 km road due east, and a ride along it from 200 m before to 400 m after.
ROAD = [(0, 0), (1000, 0)]
THROUGH = [(-200, 0), (1400, 0)]


def straight() -> shape.Segment:
    return shape.from_points(rides.points(ROAD))


def test_a_straight_kilometre_at_constant_speed_takes_distance_over_speed():
    track = rides.ride(THROUGH, distance_at=rides.constant(8.0))
    [effort] = match.match(track, straight())
    assert effort.start_offset_s == pytest.approx(200 / 8, abs=0.05)
    assert effort.end_offset_s == pytest.approx(1200 / 8, abs=0.05)
    assert effort.elapsed_s == pytest.approx(1000 / 8, abs=0.1)
    assert effort.moving_s == pytest.approx(1000 / 8, abs=0.1)
    assert effort.average_speed_mps == pytest.approx(8.0, rel=1e-3)
    assert (effort.start_index, effort.end_index) == (25, 150)  # one point a second
    assert effort.average_hr is None and effort.average_power is None


def test_a_detour_in_the_middle_breaks_the_effort():
    detour = [(-200, 0), (500, 0), (500, 100), (520, 100), (520, 0), (1400, 0)]
    assert match.match(rides.ride(detour, distance_at=rides.constant(8.0)), straight()) == []


def test_a_detour_inside_the_segments_box_breaks_the_effort():
    diagonal = shape.from_points(rides.points([(0, 0), (1000, 1000)]))
    # Out 100 m square to the road at its middle and back: every point is in the box.
    detour = [(-100, -100), (500, 500), (430, 570), (500, 500), (1100, 1100)]
    assert match.match(rides.ride(detour, distance_at=rides.constant(8.0)), diagonal) == []
    direct = [(-100, -100), (1100, 1100)]
    assert len(match.match(rides.ride(direct, distance_at=rides.constant(8.0)),
                           diagonal)) == 1


@pytest.mark.parametrize("far_m", [
    500.0,  # a long dead end
    120.0,  # a short one (a dead end within the tolerance could not be told from a bend)
])
def test_an_out_and_back_segment_needs_the_way_back(far_m):
    # Up a dead end and back down to 20 m, on the other side of the road.
    out_and_back = shape.from_points(rides.points([(0, 0), (far_m, 0), (far_m, 10),
                                                   (20, 10)]))
    there = [(-100, 0), (far_m, 0), (far_m, 300)]  # up the dead end, then off north
    assert match.match(rides.ride(there, distance_at=rides.constant(5.0)), out_and_back) == []
    back = [(-100, 0), (far_m, 0), (far_m, 10), (-100, 10)]
    [effort] = match.match(rides.ride(back, distance_at=rides.constant(5.0)), out_and_back)
    # In at 100 m; out, across 10 m, back to 20 m from the start.
    assert (effort.start_offset_s, effort.end_offset_s) == pytest.approx(
        (100 / 5, (100 + 2 * far_m - 20 + 10) / 5), abs=0.05)


def test_a_rider_turning_back_across_the_start_is_timed_from_the_last_crossing():
    # 20 m beside the start, 30 m on, back behind it, then along 10 m beside the road.
    ride = [(-100, 20), (30, 20), (-10, 10), (0, 10), (1100, 10)]
    [effort] = match.match(rides.ride(ride, distance_at=rides.constant(2.0)), straight())
    back = float(np.hypot(40, 10))
    # The last crossing, nearest the start (10 m): after 130 m, the way back and 10 m.
    assert effort.start_offset_s == pytest.approx((130 + back + 10) / 2, abs=0.05)
    assert effort.elapsed_s == pytest.approx(1000 / 2, abs=0.1)


def test_a_wobble_within_the_tolerance_keeps_the_effort():
    wobble = [(-200, 0), (500, 0), (510, 15), (530, 15), (540, 0), (1400, 0)]
    assert len(match.match(rides.ride(wobble, distance_at=rides.constant(8.0)),
                           straight())) == 1


def test_the_reversed_direction_does_not_match():
    track = rides.ride(THROUGH[::-1], distance_at=rides.constant(8.0))
    assert match.match(track, straight()) == []


@pytest.mark.parametrize(("offset_m", "efforts"), [
    (40.0, 0),  # a parallel road 40 m away is another road
    (20.0, 1),  # 20 m away is the same road ridden on its far side (within 25 m)
])
def test_a_parallel_road(offset_m, efforts):
    road = [(x, offset_m) for x, _ in THROUGH]
    track = rides.ride(road, distance_at=rides.constant(8.0))
    assert len(match.match(track, straight())) == efforts


def test_two_laps_give_two_efforts_at_the_right_times():
    square = [(0, 0), (300, 0), (300, 300), (0, 300), (0, 0)]
    laps = square + square[1:]
    # Most of the east-going side, round the corner, half the north-going side.
    segment = shape.from_points(rides.points([(50, 0), (300, 0), (300, 150)]))
    efforts = match.match(rides.ride(laps, distance_at=rides.constant(5.0)), segment)
    # Start 50 m into each lap, end 450 m in; a lap is 1,200 m, 240 s.
    assert [(e.start_offset_s, e.end_offset_s) for e in efforts] == [
        pytest.approx((10.0, 90.0), abs=0.05), pytest.approx((250.0, 330.0), abs=0.05)]


def test_a_closed_loop_ridden_twice_gives_two_efforts_end_to_start():
    square = [(0, 0), (300, 0), (300, 300), (0, 300), (0, 0)]
    ride = [(-100, 0), *square, *square[1:], (-100, 0)]
    efforts = match.match(rides.ride(ride, distance_at=rides.constant(5.0)),
                          shape.from_points(rides.points(square)))
    # In at 100 m (20 s); each lap 1,200 m (240 s); out westwards, which is no lap.
    assert [(e.start_offset_s, e.end_offset_s) for e in efforts] == [
        pytest.approx((20.0, 260.0), abs=0.05), pytest.approx((260.0, 500.0), abs=0.05)]


def test_a_gap_on_a_straight_still_matches():
    # 20 s without points in the middle: their chord lies on the road.
    track = rides.ride(THROUGH, distance_at=rides.constant(8.0),
                       keep=lambda t: (t < 60) | (t > 80))
    [effort] = match.match(track, straight())
    assert effort.elapsed_s == pytest.approx(125.0, abs=0.1)


def test_a_long_gap_that_cuts_a_corner_does_not_match():
    corner = shape.from_points(rides.points([(0, 0), (500, 0), (500, 500)]))
    ride = [(-200, 0), (500, 0), (500, 700)]
    whole = rides.ride(ride, distance_at=rides.constant(8.0))
    assert len(match.match(whole, corner)) == 1
    # No point from 300 m before the corner to 300 m after: the chord misses it by 212 m.
    gap = rides.ride(ride, distance_at=rides.constant(8.0),
                     keep=lambda t: (8 * t < 400) | (8 * t > 1000))
    assert match.match(gap, corner) == []


def test_gps_jitter_of_five_metres_still_matches():
    track = rides.ride(THROUGH, distance_at=rides.constant(8.0), jitter_m=5.0, seed=7)
    [effort] = match.match(track, straight())
    # Each crossing may move by the jitter along the road: 5 m at 8 m/s, at both ends.
    assert effort.elapsed_s == pytest.approx(125.0, abs=1.25)


def test_sparse_and_dense_recordings_of_one_ride_agree():
    bend = [(-300, 0), (600, 0), (600 + 400 * np.cos(0.5), 400 * np.sin(0.5)), (1400, 600)]
    segment = shape.from_points(rides.points([*rides.at(bend, [200.0]).tolist(), (600, 0),
                                              *rides.at(bend, [900.0]).tolist()]))
    # Speed swings between about 4.7 and 7.3 m/s.
    surge = lambda t: 6.0 * t + 40.0 * np.sin(np.asarray(t) / 30.0)  # noqa: E731
    truth = rides.time_at(surge, 900.0) - rides.time_at(surge, 200.0)
    [dense] = match.match(rides.ride(bend, distance_at=surge), segment)
    [sparse] = match.match(rides.ride(bend, distance_at=surge, every_s=7.0, first_s=3.0),
                           segment)
    assert dense.elapsed_s == pytest.approx(truth, abs=0.5)
    assert sparse.elapsed_s == pytest.approx(truth, abs=1.0)
    assert sparse.elapsed_s == pytest.approx(dense.elapsed_s, abs=1.0)


def test_heart_rate_and_power_are_averaged_over_time():
    track = rides.ride(THROUGH, distance_at=rides.constant(8.0), columns={
        "hr": lambda t: 120.0 + 0.2 * t,
        "power": lambda t: np.where(t < 90, 200.0, 300.0)})
    [effort] = match.match(track, straight())
    # From 25 s to 150 s: the ramp's mean is its middle, 120 + 0.2 * 87.5.
    assert effort.average_hr == pytest.approx(137.5, abs=0.01)
    # 65 s at 200 W and 60 s at 300 W, save the one step between (250 W for 1 s).
    assert effort.average_power == pytest.approx((65 * 200 + 60 * 300) / 125, abs=0.5)


def test_a_stop_counts_in_elapsed_but_not_in_moving_time():
    go = rides.constant(8.0)
    halted = lambda t: go(np.clip(t, None, 70) + np.clip(t - 100, 0, None))  # noqa: E731
    # The device's speed: 0 at the 31 points from 70 s to 100 s, as a FIT file records;
    # the 30 steps between them are standing still (a step's speed is its ends' mean).
    track = rides.ride(THROUGH, distance_at=halted, columns={
        "speed": lambda t: np.where((t >= 70) & (t <= 100), 0.0, 8.0)})
    [effort] = match.match(track, straight())
    assert effort.elapsed_s == pytest.approx(125.0 + 30.0, abs=0.1)
    assert effort.moving_s == pytest.approx(125.0, abs=1.0)


def test_an_hour_at_one_point_a_second_matches_quickly():
    # A winding 21.6 km ride, 3,600 points, and a 3 km segment in the middle of it.
    x = np.linspace(0, 20_000, 2001)
    winding = np.column_stack([x, 300 * np.sin(x / 500)])
    track = rides.ride(winding, distance_at=rides.constant(6.0))
    inside = rides.at(winding, np.linspace(9000, 12000, 301))
    segment = shape.from_points(rides.points(inside))
    took = []
    for _ in range(3):
        began = time.perf_counter()
        [effort] = match.match(track, segment)
        took.append(time.perf_counter() - began)
    assert track.n >= 3600
    assert effort.start_offset_s == pytest.approx(9000 / 6, abs=0.1)
    assert min(took) < 0.5, took


def test_a_track_without_timestamps_or_far_away_has_no_efforts():
    timed = rides.ride(THROUGH, distance_at=rides.constant(8.0))
    untimed = Track(format="gpx", columns={"lat": timed.lat, "lon": timed.lon})
    assert match.match(untimed, straight()) == []
    far = rides.ride([(50_000, 0), (51_600, 0)], distance_at=rides.constant(8.0))
    assert match.match(far, straight()) == []


def test_one_track_prepared_once_for_many_segments_matches_as_alone():
    square = [(0, 0), (300, 0), (300, 300), (0, 300), (0, 0)]
    track = rides.ride([(-100, 0), *square, *square[1:], (-100, 0)],
                       distance_at=rides.constant(5.0), columns={"hr": lambda t: 100 + t % 7})
    segments = [shape.from_points(rides.points(path)) for path in (
        square, [(50, 0), (300, 0), (300, 150)], [(300, 300), (300, 0)],  # two, two, none
        [(0, 300), (0, 0), (-100, 0)], [(5000, 0), (6000, 0)])]
    prepared = match.prepare(track)
    found = [match.match(track, s, prepared=prepared) for s in segments]
    assert [len(f) for f in found] == [2, 2, 0, 1, 0]
    assert found == [match.match(track, s) for s in segments]
