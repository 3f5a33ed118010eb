"""core.privacy: what others see of a track, zones and trims cut out whole."""

from __future__ import annotations

import numpy as np

from core import privacy
from core.derivers import preview, route
from core.geo import haversine_m
from core.privacy import Rules, Zone
from core.track import Track

#: Metres per degree of latitude, near enough for placing test points.
M = 111_195.0


def line(n: int = 101, step_m: float = 10.0, lat0: float = 45.0, lon0: float = 6.0,
         starts: tuple[int, ...] = (0,)) -> Track:
    """A straight track north, one point every `step_m` metres, one a second."""
    lat = lat0 + np.arange(n) * step_m / M
    return Track(format="gpx", columns={"time": 1.7e9 + np.arange(n, dtype=float),
                                        "lat": lat, "lon": np.full(n, lon0)},
                 segment_starts=starts)


def at(track: Track, i: int) -> Zone:
    # 95 m: clear of the points 100 m away (10 m apart), so that counts are exact.
    return Zone(float(track.lat[i]), float(track.lon[i]), 95.0)


def within(track: Track, zone: Zone) -> np.ndarray:
    return haversine_m(track.lat, track.lon, np.full(track.n, zone.lat),
                       np.full(track.n, zone.lon)) <= zone.radius_m


def segments_of(track: Track) -> list[tuple[int, int]]:
    return [(s.start, s.stop) for s in track.segments()]


def test_nothing_hidden_gives_the_same_track():
    track = line()
    assert privacy.cut(track, Rules()) is track


def test_a_zone_at_the_start_drops_its_points():
    track = line()
    zone = at(track, 0)
    shown = privacy.cut(track, Rules(zones=(zone,)))
    assert not within(shown, zone).any()
    assert shown.n == track.n - 10  # 0..90 m from the start, 10 m apart
    assert segments_of(shown) == [(0, shown.n)]


def test_a_zone_at_the_end_drops_its_points():
    track = line()
    zone = at(track, 100)
    shown = privacy.cut(track, Rules(zones=(zone,)))
    assert not within(shown, zone).any() and shown.n == track.n - 10


def test_a_zone_in_the_middle_cuts_the_track_in_two():
    track = line()
    zone = at(track, 50)
    shown = privacy.cut(track, Rules(zones=(zone,)))
    assert not within(shown, zone).any()
    # Two segments: no line joins the points either side of the zone.
    assert segments_of(shown) == [(0, 41), (41, 82)]
    drawn = route.build_route(shown)
    assert drawn["segment_starts"] == [0, drawn["segment_starts"][1]]
    assert len(drawn["segment_starts"]) == 2


def test_a_sparse_step_across_a_zone_is_cut_though_no_point_is_inside():
    track = line(n=5, step_m=500)  # points 500 m apart
    zone = Zone(float(track.lat[2] + 250 / M), 6.0, 100.0)  # between points 2 and 3
    assert not within(track, zone).any()
    shown = privacy.cut(track, Rules(zones=(zone,)))
    assert shown.n == 5 and segments_of(shown) == [(0, 3), (3, 5)]


def test_a_zone_crossed_twice_leaves_three_stretches():
    out_and_back = np.concatenate([np.arange(0, 101), np.arange(99, -1, -1)]) * 10 / M
    track = Track(format="gpx", columns={
        "time": 1.7e9 + np.arange(len(out_and_back), dtype=float),
        "lat": 45 + out_and_back, "lon": np.full(len(out_and_back), 6.0)})
    zone = Zone(45 + 500 / M, 6.0, 100.0)
    shown = privacy.cut(track, Rules(zones=(zone,)))
    assert not within(shown, zone).any()
    assert len(shown.segments()) == 3


def test_trims_hide_the_first_and_last_metres():
    track = line()  # 1,000 m
    shown = privacy.cut(track, Rules(trim_start_m=200, trim_end_m=300))
    assert 101 - 21 - 31 <= shown.n <= 101 - 20 - 30
    from_start = haversine_m(shown.lat, shown.lon, np.full(shown.n, track.lat[0]),
                             np.full(shown.n, track.lon[0]))
    to_end = haversine_m(shown.lat, shown.lon, np.full(shown.n, track.lat[-1]),
                         np.full(shown.n, track.lon[-1]))
    assert from_start.min() >= 199 and to_end.min() >= 299


def test_a_trim_longer_than_the_track_hides_everything():
    shown = privacy.cut(line(n=11), Rules(trim_start_m=2000))
    assert shown.n == 0
    assert route.build_route(shown)["points"] == []
    assert "<path" not in preview.draw_preview(shown)


def test_a_point_without_position_does_not_bridge_a_zone():
    track = line()
    lat = track.lat.copy()
    lat[50] = np.nan  # in the middle of the zone
    track = Track(format="gpx", columns={"time": track.time, "lat": lat, "lon": track.lon})
    zone = Zone(float(line().lat[50]), 6.0, 100.0)
    shown = privacy.cut(track, Rules(zones=(zone,)))
    assert np.isnan(shown.lat).sum() == 0
    assert len(shown.segments()) == 2


def test_segments_of_the_recording_stay_segments():
    track = line(starts=(0, 20))
    shown = privacy.cut(track, Rules(zones=(at(track, 80),)))
    assert segments_of(shown) == [(0, 20), (20, 71), (71, 82)]


def test_many_cuts_are_never_joined_by_the_route_or_the_preview():
    # More stretches than the route joins for a normal activity: the public drawing keeps
    # them apart all the same.
    n = 2000
    track = line(n=n, step_m=20)
    zones = tuple(at(track, i) for i in range(20, n, 20))  # a zone every 400 m
    shown = privacy.cut(track, Rules(zones=zones))
    assert len(shown.segments()) > route.MAX_SEGMENTS
    drawn = route.build_route(shown, join_many=False)
    assert len(drawn["segment_starts"]) == len(shown.segments())
    svg = preview.draw_preview(shown, join_many=False)
    assert svg.count("M") >= len(shown.segments())
