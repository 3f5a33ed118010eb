"""The `route` deriver: Douglas–Peucker on a budget, segments kept apart, Google polylines."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core import polyline, simplify
from core.derivers import route
from core.derivers.route import ROUTE
from core.track import Track
from tests.unit.derivers.tracks import T0, northward, wiggly, without_gps


def decode_polyline(text: str) -> list[tuple[float, float]]:
    """Google's published algorithm, written independently of core.polyline."""
    values, number, shift = [], 0, 0
    for char in text:
        chunk = ord(char) - 63
        number |= (chunk & 0x1F) << shift
        shift += 5
        if chunk < 0x20:
            values.append(~(number >> 1) if number & 1 else number >> 1)
            number, shift = 0, 0
    lat = np.cumsum(values[0::2]) / 1e5
    lon = np.cumsum(values[1::2]) / 1e5
    return list(zip(lat.tolist(), lon.tolist(), strict=True))


def chord_distances(x, y, kept) -> np.ndarray:
    """Each point's distance to the simplified line's piece that replaces it (brute force)."""
    out = np.zeros(len(x))
    for a, b in zip(kept, kept[1:], strict=False):
        for i in range(a + 1, b):
            ax, ay, bx, by = x[a], y[a], x[b], y[b]
            length2 = (bx - ax) ** 2 + (by - ay) ** 2
            t = 0.0 if length2 == 0 else ((x[i] - ax) * (bx - ax) + (y[i] - ay) * (by - ay)) \
                / length2
            t = min(1.0, max(0.0, t))
            out[i] = np.hypot(x[i] - ax - t * (bx - ax), y[i] - ay - t * (by - ay))
    return out


def test_polyline_matches_googles_published_example():
    encoded = polyline.encode(np.array([38.5, 40.7, 43.252]), np.array([-120.2, -120.95,
                                                                         -126.453]))
    assert encoded == "_p~iF~ps|U_ulLnnqC_mqNvxq`@"


def test_polyline_round_trips_to_five_decimals():
    rng = np.random.default_rng(7)
    lat, lon = rng.uniform(-89, 89, 500), rng.uniform(-179, 179, 500)
    decoded = np.array(decode_polyline(polyline.encode(lat, lon)))
    assert np.abs(decoded[:, 0] - lat).max() <= 0.5e-5 + 1e-9
    assert np.abs(decoded[:, 1] - lon).max() <= 0.5e-5 + 1e-9


def test_polyline_of_nothing_is_empty():
    assert polyline.encode(np.empty(0), np.empty(0)) == ""


def test_douglas_peucker_keeps_the_ends_and_bounds_the_error():
    rng = np.random.default_rng(3)
    x, y = np.cumsum(rng.normal(size=(2, 5000)), axis=1)
    kept, error = simplify.douglas_peucker(x, y, starts=(0,), max_points=200, tolerance=0.0)
    assert kept[0] == 0 and kept[-1] == 4999
    assert len(kept) == 200
    assert np.all(np.diff(kept) > 0)
    assert chord_distances(x, y, kept).max() <= error + 1e-9


def test_douglas_peucker_stops_at_the_tolerance():
    rng = np.random.default_rng(5)
    x, y = np.cumsum(rng.normal(size=(2, 3000)), axis=1)
    kept, error = simplify.douglas_peucker(x, y, starts=(0,), max_points=3000, tolerance=2.0)
    assert error <= 2.0
    assert chord_distances(x, y, kept).max() <= 2.0 + 1e-9
    assert len(kept) < 3000


def test_a_straight_line_keeps_only_its_ends():
    x = np.arange(100.0)
    kept, error = simplify.douglas_peucker(x, 2 * x, starts=(0,), max_points=50, tolerance=0.1)
    assert kept.tolist() == [0, 99] and error == pytest.approx(0, abs=1e-9)


def test_a_closed_loop_keeps_its_shape():
    angle = np.linspace(0, 2 * np.pi, 400)  # ends where it began: a chord of length zero
    kept, _ = simplify.douglas_peucker(np.cos(angle), np.sin(angle), starts=(0,),
                                       max_points=20, tolerance=0.0)
    assert len(kept) == 20
    assert np.ptp(np.cos(angle[kept])) > 1.9 and np.ptp(np.sin(angle[kept])) > 1.9


def test_simplification_never_joins_two_segments():
    x = np.r_[np.arange(50.0), np.arange(50.0)]
    y = np.r_[np.zeros(50), np.full(50, 1000.0)]
    kept, _ = simplify.douglas_peucker(x, y, starts=(0, 50), max_points=10, tolerance=0.5)
    assert kept.tolist() == [0, 49, 50, 99]


def test_route_of_a_long_track_is_a_few_hundred_points_of_json():
    track = wiggly(100_000)
    out = ROUTE.derive(track)
    assert 2 <= len(out["points"]) <= route.MAX_POINTS
    assert out["source_points"] == 100_000
    assert out["points"][0] == [round(track.lat[0], 5), round(track.lon[0], 5)]
    assert out["points"][-1] == [round(track.lat[-1], 5), round(track.lon[-1], 5)]
    assert len(ROUTE.codec.dumps(out)) < 20_000


def test_route_polyline_decodes_to_its_points():
    out = ROUTE.derive(wiggly(5000))
    decoded = np.array(decode_polyline(out["polyline"]))
    assert decoded.shape == (len(out["points"]), 2)
    assert np.abs(decoded - np.array(out["points"])).max() < 1e-9


def test_a_straight_track_keeps_just_its_ends():
    out = ROUTE.derive(northward(500))
    assert len(out["points"]) == 2 and out["tolerance_m"] == 0.0


def test_each_segment_starts_a_new_line():
    track = northward(100, segment_starts=(0, 50))
    track.lon[50:] += 0.1  # the second part 7 km east: no line may join the two
    out = ROUTE.derive(track)
    assert out["segment_starts"] == [0, 2]
    assert out["points"][1] == [round(track.lat[49], 5), 14.0]
    assert out["points"][2] == [round(track.lat[50], 5), 14.1]


def test_a_gps_spike_is_left_out_of_the_route_and_its_box():
    track = northward(200)
    track.lat[100] += 0.5  # one fix 55 km off, back a second later
    out = ROUTE.derive(track)
    assert out["bbox"]["max_lat"] == pytest.approx(track.lat[-1], abs=1e-6)
    assert max(lat for lat, _ in out["points"]) < 46.1


def test_an_indoor_track_has_an_empty_route():
    out = ROUTE.derive(without_gps())
    assert out["points"] == [] and out["polyline"] == "" and out["bbox"] is None
    assert out["source_points"] == 0 and out["segment_starts"] == []
    json.loads(ROUTE.codec.dumps(out))


def test_an_empty_track_has_an_empty_route():
    assert ROUTE.derive(Track(format="gpx"))["points"] == []


def test_a_track_of_one_fix_is_one_point():
    track = Track(format="gpx", columns={"time": np.array([T0]), "lat": np.array([46.0]),
                                         "lon": np.array([14.0])})
    out = ROUTE.derive(track)
    assert out["points"] == [[46.0, 14.0]] and out["polyline"] == polyline.encode(
        np.array([46.0]), np.array([14.0]))


def test_hundreds_of_segments_still_fit_the_budget():
    starts = tuple(range(0, 10_000, 20))  # a segment at every pause, 500 of them
    out = ROUTE.derive(northward(10_000, segment_starts=starts))
    assert len(out["points"]) <= route.MAX_POINTS
