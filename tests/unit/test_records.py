"""core.records: merged one activity at a time or built whole, the same book; and
core.heatmap: counts per pixel, a PNG any reader opens."""

from __future__ import annotations

import random
import struct
import zlib
from datetime import UTC, datetime, timedelta

import numpy as np

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


def test_heatmap_counts_each_activity_once_per_pixel():
    there_and_back = [[46.0, 14.0], [46.01, 14.0], [46.0, 14.0]]
    grid = heatmap.build([there_and_back, [[46.0, 14.0], [46.01, 14.0]]])
    assert grid.counts.max() == 2
    image = read_png(heatmap.png(grid))
    assert image.shape[:2] == grid.counts.shape
    assert (image[..., 3] > 0).sum() == (grid.counts > 0).sum()


def test_heatmap_merge_equals_build_when_inside_the_frame():
    a = [[46.0, 14.0], [46.02, 14.03]]
    b = [[46.005, 14.01], [46.015, 14.02]]
    grid = heatmap.build([a])
    assert heatmap.fits(grid, b)
    heatmap.add(grid, b)
    whole = heatmap.build([a])
    heatmap.add(whole, b)
    assert np.array_equal(heatmap.Grid.loads(grid.dumps()).counts, whole.counts)
    assert not heatmap.fits(grid, [[47.0, 14.0]])


def test_heatmap_of_nothing_is_an_empty_image():
    assert read_png(heatmap.png(None)).shape == (1, 1, 4)


def test_heatmap_merged_in_any_order_equals_built_whole():
    rng = np.random.default_rng(5)
    routes = []
    for _ in range(12):
        start = rng.uniform([46.0, 14.0], [46.05, 14.05])
        routes.append((start + np.cumsum(rng.normal(0, 0.0005, (80, 2)), axis=0)).tolist())
    whole = heatmap.build(routes)
    grid = heatmap.build(routes[:1])
    for done, route in enumerate(routes[1:], start=2):
        if heatmap.fits(grid, route):
            heatmap.add(grid, route)
        else:  # a route outside the frame: the caller builds whole
            grid = heatmap.build(routes[:done])
    assert np.array_equal(grid.counts, whole.counts) and grid.frame == whole.frame


def test_heatmap_frame_is_at_most_two_tiles_each_way():
    grid = heatmap.build([[[46.0, 14.0], [46.3, 14.4]]])
    height, width = grid.counts.shape
    assert height <= 2 * heatmap.TILE_PX and width <= 2 * heatmap.TILE_PX
    assert (grid.counts > 0).sum() > 100  # the route crosses many pixels, not a few
