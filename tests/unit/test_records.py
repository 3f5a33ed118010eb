"""core.records: merged one activity at a time or built whole, the same book; and
core.heatmap: counts per pixel, a PNG any reader opens."""

from __future__ import annotations

import random
import struct
import zlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from core import heatmap, records
from core.records import Fact


def fact(i: int, *, sport="running", day=0, distance=5000.0, moving=1500.0, ascent=40.0,
         five_k=None) -> Fact:
    efforts = {"running": {}, "cycling": {}}
    if five_k is not None:
        efforts["running"]["5k"] = {"value": five_k, "start_offset_s": 10.0,
                                    "end_offset_s": 10.0 + five_k}
    return Fact(activity_id=i, sport=sport,
                start_time=datetime(2026, 1, 5, 7, tzinfo=UTC) + timedelta(days=day),
                summary={"distance_m": distance, "moving_s": moving, "ascent_m": ascent},
                efforts=efforts, signature=[sport, 3, 1, 1])


def test_best_of_each_kind_per_sport():
    book = records.build([fact(1, five_k=1500.0), fact(2, five_k=1400.0, distance=9000.0),
                          fact(3, sport="cycling", distance=40000.0)])
    assert book.records["running 5k"]["activity_id"] == 2
    assert book.records["running longest_distance"]["value"] == 9000.0
    assert book.records["cycling longest_distance"]["activity_id"] == 3
    assert "cycling 5k" not in book.records


def test_a_tie_goes_to_the_earlier_activity():
    book = records.build([fact(2, day=3, five_k=1400.0), fact(1, day=1, five_k=1400.0)])
    assert book.records["running 5k"]["activity_id"] == 1


def test_merging_in_any_order_equals_building_whole():
    rng = random.Random(7)
    facts = [fact(i, sport=rng.choice(["running", "cycling", "hiking"]), day=rng.randint(0, 400),
                  distance=rng.uniform(1000, 50000), moving=rng.uniform(600, 9000),
                  ascent=rng.uniform(0, 900), five_k=rng.choice([None, rng.uniform(1100, 2000)]))
             for i in range(300)]
    whole = records.build(facts).as_json()
    rng.shuffle(facts)
    merged = records.Book()
    for f in facts:
        records.add(merged, f)
    assert merged.as_json() == whole


def test_totals_are_the_sums_per_iso_week_month_and_year():
    # 2026-01-05 is a Monday; day 6 is Sunday (same week), day 7 the next Monday.
    book = records.build([fact(1, day=0), fact(2, day=6), fact(3, day=7)])
    assert book.totals["week"]["2026-01-05 running"] == [2, 100000, 30000, 800, 0]
    assert book.totals["week"]["2026-01-12 running"] == [1, 50000, 15000, 400, 0]
    assert book.totals["month"]["2026-01-01 running"][0] == 3
    assert book.totals["year"]["2026-01-01 running"][0] == 3


def test_only_additions_are_merged():
    book = records.build([fact(1), fact(2)])
    wanted = dict(book.included)
    assert records.is_addition(book, wanted | {"3": ["running", 3, 1, 1]})
    assert not records.is_addition(book, {"1": wanted["1"]})  # 2 was deleted
    assert not records.is_addition(book, wanted | {"2": ["cycling", 3, 1, 1]})  # sport edit
    assert not records.is_addition(book, wanted | {"2": ["running", 3, 2, 1]})  # a rebuild


def read_png(blob: bytes) -> np.ndarray:
    assert blob.startswith(b"\x89PNG\r\n\x1a\n")
    offset, idat, shape = 8, b"", None
    while offset < len(blob):
        (length,) = struct.unpack_from(">I", blob, offset)
        kind = blob[offset + 4:offset + 8]
        data = blob[offset + 8:offset + 8 + length]
        (crc,) = struct.unpack_from(">I", blob, offset + 8 + length)
        assert crc == zlib.crc32(kind + data)
        if kind == b"IHDR":
            shape = struct.unpack(">II", data[:8])
        elif kind == b"IDAT":
            idat += data
        offset += 12 + length
    width, height = shape
    rows = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(height, width * 4 + 1)
    return rows[:, 1:].reshape(height, width, 4)


def _one(heat: heatmap.Heat) -> heatmap.Grid:
    assert len(heat.regions) == 1
    return heat.regions[0].grid


def test_heatmap_counts_each_activity_once_per_pixel():
    there_and_back = [[46.0, 14.0], [46.01, 14.0], [46.0, 14.0]]
    heat = heatmap.build([there_and_back, [[46.0, 14.0], [46.01, 14.0]]])
    grid = _one(heat)
    assert grid.counts.max() == 2 and heat.regions[0].most == 2
    image = read_png(heatmap.png(heat))
    assert image.shape[:2] == grid.counts.shape
    assert (image[..., 3] > 0).sum() == (grid.counts > 0).sum()


def test_heatmap_merge_equals_build_when_inside_the_frame():
    a = [[46.0, 14.0], [46.02, 14.03]]
    b = [[46.005, 14.01], [46.015, 14.02]]
    heat = heatmap.build([a])
    assert heatmap.fits(heat, b)
    heatmap.add(heat, b)
    whole = heatmap.build([a, b])
    assert np.array_equal(_one(heatmap.Heat.loads(heat.dumps())).counts, _one(whole).counts)
    assert heat.regions[0].routes == 2
    assert not heatmap.fits(heat, [[47.0, 14.0]])
    with pytest.raises(ValueError, match="build it again"):
        heatmap.add(heat, [[47.0, 14.0]])


def test_heatmap_of_nothing_is_an_empty_image():
    assert read_png(heatmap.png(None)).shape == (1, 1, 4)
    assert heatmap.build([[], []]) is None


def _walks(rng, around, n):
    routes = []
    for _ in range(n):
        start = rng.uniform(around, [around[0] + 0.05, around[1] + 0.05])
        routes.append((start + np.cumsum(rng.normal(0, 0.0005, (80, 2)), axis=0)).tolist())
    return routes


def test_heatmap_merged_in_any_order_equals_built_whole():
    rng = np.random.default_rng(5)
    # Two places far apart, interleaved: each its own region.
    routes = [r for pair in zip(_walks(rng, [46.0, 14.0], 8), _walks(rng, [40.7, -74.0], 8),
                                strict=True) for r in pair]
    rng.shuffle(routes)
    whole = heatmap.build(routes)
    heat = heatmap.build(routes[:1])
    for done, route in enumerate(routes[1:], start=2):
        if heatmap.fits(heat, route):
            heatmap.add(heat, route)
        else:  # a route outside every region: the caller builds whole
            heat = heatmap.build(routes[:done])
    assert len(whole.regions) == 2
    for mine, theirs in zip(heat.ordered(), whole.ordered(), strict=True):
        assert mine.grid.frame == theirs.grid.frame and mine.cells == theirs.cells
        assert np.array_equal(mine.grid.counts, theirs.grid.counts)
        assert mine.routes == theirs.routes == 8


def test_far_apart_places_are_regions_the_busiest_first():
    rng = np.random.default_rng(7)
    home, trip = _walks(rng, [46.0, 14.5], 5), _walks(rng, [-33.9, 151.2], 2)
    heat = heatmap.Heat.loads(heatmap.build(trip + home).dumps())
    first, second = heat.ordered()
    assert (first.routes, second.routes) == (5, 2)
    # Each frame is a few kilometres, not the world: the routes fill many pixels.
    points = np.concatenate([np.asarray(r) for r in home])
    (south, west), (north, east) = first.bounds
    assert south <= points[:, 0].min() and points[:, 0].max() <= north
    assert west <= points[:, 1].min() and points[:, 1].max() <= east
    assert north - south < 0.5 and east - west < 0.5
    # The focus is inside the frame and holds the busy part.
    (fs, fw), (fn, fe) = first.focus()
    assert south <= fs < fn <= north and west <= fw < fe <= east
    middle = np.median(points, axis=0)
    assert fs < middle[0] < fn and fw < middle[1] < fe
    assert (first.grid.counts > 0).sum() > 500 and (second.grid.counts > 0).sum() > 200
    (south, west), (north, east) = second.bounds
    assert south < -33.9 < north and west < 151.2 < east
    assert read_png(heatmap.png(heat, 1)).shape[:2] == second.grid.counts.shape
    assert read_png(heatmap.png(heat, 2)).shape == (1, 1, 4)  # no third region


def test_the_focus_leaves_out_a_lone_long_trip():
    rng = np.random.default_rng(3)
    loops = _walks(rng, [46.0, 14.5], 3)
    town = [(np.asarray(loops[i % 3]) + rng.normal(0, 0.00002, (80, 2))).tolist()
            for i in range(30)]  # three usual loops, ten times each
    trip = [[46.0, 14.5], [46.6, 15.1]]
    region = heatmap.build([*town, trip]).regions[0]
    (south, west), (north, east) = region.bounds
    (fs, fw), (fn, fe) = region.focus()
    assert north - south > 0.5  # the frame holds the trip...
    assert fn - fs < 0.2 and fe - fw < 0.2  # ...the focus is the town


def test_a_route_joining_two_regions_makes_them_one():
    ljubljana, trieste = [[46.05, 14.5], [46.06, 14.51]], [[45.65, 13.78], [45.66, 13.79]]
    apart = heatmap.build([ljubljana, trieste])
    # About 90 km apart: neighbouring region tiles at most, so already one region...
    assert len(apart.regions) == 1
    vienna = [[48.2, 16.37], [48.21, 16.38]]
    two = heatmap.build([ljubljana, vienna])
    assert len(two.regions) == 2
    # ...and a ride from one to the other joins them.
    ride = [[46.05, 14.5], [48.2, 16.37]]
    assert not heatmap.fits(two, ride)
    joined = heatmap.build([ljubljana, vienna, ride])
    assert len(joined.regions) == 1 and joined.regions[0].routes == 3


def test_heatmap_frame_is_at_most_two_tiles_each_way():
    grid = _one(heatmap.build([[[46.0, 14.0], [46.3, 14.4]]]))
    height, width = grid.counts.shape
    assert height <= 2 * heatmap.TILE_PX and width <= 2 * heatmap.TILE_PX
    assert (grid.counts > 0).sum() > 100  # the route crosses many pixels, not a few
