"""A merge's streams taken (core.revisions.take): only the streams the track has no value
of, aligned by time (a reading at the point's time as it is, else interpolated between
readings at most TAKE_GAP_S apart, none across a longer gap or outside the giver's
recording); the track deriver applies it after the crop, and without it gives the same
bytes as before."""

from __future__ import annotations

import numpy as np
import pytest

from core import revisions
from core import track as tracks
from core.derivers.track import build_track
from core.track import Track
from tests import gpxwriter, rides


def _track(time, **columns) -> Track:
    n = len(time)
    base = {"time": np.asarray(time, dtype=float), "lat": np.full(n, 45.0),
            "lon": np.full(n, 6.0)}
    return Track(format="gpx", columns=base | {k: np.asarray(v, dtype=float)
                                              for k, v in columns.items()})


def test_values_are_aligned_by_time_and_gaps_give_none():
    kept = _track([0, 1, 2, 3, 4, 20, 30, 31, 50], power=[200] * 9)
    giver = _track([0, 4, 24, 31, 34], hr=[100, 120, 140, 160, np.nan], power=[1] * 5)
    assert revisions.takeable(kept, giver) == ["hr"]
    taken = revisions.take(kept, giver, ["hr", "power"])
    # 20 s: readings 20 s apart around it (a gap); 30 s: 7 s apart; 50 s: after the last.
    expected = [100, 105, 110, 115, 120, np.nan, 140 + 20 * 6 / 7, 160, np.nan]
    np.testing.assert_allclose(taken.columns["hr"], expected)
    np.testing.assert_array_equal(taken.columns["power"], kept.columns["power"])  # had one


def test_nothing_is_taken_without_times_or_what_to_take():
    kept = _track([0, 1], hr=[100, 101])
    giver = _track([0, 1], hr=[90, 91])
    assert revisions.take(kept, giver, ["hr"]) is kept
    untimed = _track([np.nan, np.nan])
    assert revisions.takeable(untimed, giver) == []
    assert revisions.take(untimed, giver, ["hr"]) is untimed


def test_the_deriver_takes_after_the_crop_and_gives_the_same_bytes_without():
    bike = rides.ride([(0, 0), (600, 0)], distance_at=rides.constant(6.0),
                      columns={"power": lambda t: 200 + 0 * t})
    watch = rides.ride([(0, 0), (600, 0)], distance_at=rides.constant(6.0), every_s=3.0,
                       columns={"hr": lambda t: 120 + t // 10})
    original, worn = gpxwriter.gpx(bike), gpxwriter.gpx(watch)
    crop = {"crop": [rides.T0 + 10, rides.T0 + 60]}
    plain = build_track(original, crop)
    taken = build_track(original, crop | {"take": {"from": 2, "streams": ["hr"]}},
                        (worn, None))
    assert taken.n == plain.n and taken.has("hr") and not plain.has("hr")
    # At 10 s, between the watch's readings at 9 s (120) and 12 s (121): a third of the way.
    assert taken.hr[0] == pytest.approx(120 + 1 / 3)
    # A giver gone (deleted meanwhile) gives nothing: the track as without the merge.
    gone = build_track(original, crop | {"take": {"from": 2, "streams": ["hr"]}}, None)
    assert tracks.encode(gone) == tracks.encode(plain)
