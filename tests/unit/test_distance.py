"""core.distance: how far along the activity each point lies."""

from __future__ import annotations

import numpy as np
import pytest

from core import distance, summarize
from tests.unit.derivers.tracks import northward


def test_gps_distance_along_ends_at_the_summarys_total():
    track = northward(300, segment_starts=(0, 100))
    track.lat[100:] += 0.1  # 11 km jump between segments: not distance covered
    track.lat[200] += 0.5  # and a spike
    along = distance.along_m(track)
    assert np.all(np.diff(along) >= 0)
    assert along[-1] == pytest.approx(summarize.gps_distance_m(track), rel=1e-9)


def test_the_device_distance_wins_and_segments_add_up():
    dist = np.r_[np.arange(50) * 10.0, np.arange(50) * 10.0]  # restarts at 0
    track = northward(100, dist=dist, segment_starts=(0, 50))
    along = distance.along_m(track)
    assert along[49] == 490.0 and along[50] == 490.0 and along[-1] == 980.0


def test_a_point_without_a_fix_stays_where_the_last_fix_was():
    track = northward(10)
    track.lat[5] = np.nan
    along = distance.along_m(track)
    assert along[5] == along[4] < along[6]

