"""A stretch named by distances from the start -> track indices: the first point at or
past the start, the last at or before the end; a sentence for a stretch that holds none."""

from __future__ import annotations

import pytest

from core.segments import stretch
from tests import segmentrides as rides


def test_the_indices_bound_the_stretch():
    # 8 m/s, one point a second, from 200 m before the road: 1600 m in 201 points.
    track = rides.track(rides.ON, speed_mps=8.0)
    assert stretch.indices(track, start_m=196.0, end_m=1204.0) == (25, 150)
    assert stretch.indices(track, start_m=201.0, end_m=1205.0) == (26, 150)
    assert stretch.indices(track, start_m=0.0, end_m=1e9) == (0, track.n - 1)


@pytest.mark.parametrize(("start", "end", "words"), [
    (500.0, 400.0, "start comes before the end"),
    (-1.0, 400.0, "start comes before the end"),
    (1700.0, 1800.0, "start within it"),
    (500.0, 503.0, "fewer than two points"),
])
def test_a_stretch_without_two_points_is_refused(start, end, words):
    track = rides.track(rides.ON, speed_mps=8.0)
    with pytest.raises(ValueError, match=words):
        stretch.indices(track, start_m=start, end_m=end)
