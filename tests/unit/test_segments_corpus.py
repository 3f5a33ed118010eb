"""A real ride matched against a stretch of its own track: the effort lies exactly on
the stretch, and any other passage over it starts and ends within reach of its ends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import decode, geo
from core.segments import cells, match, shape
from tests.corpus import require_corpus

pytestmark = pytest.mark.corpus

#: A 41 km ride with power and heart rate, one point a second, that rides one stretch twice.
RIDE = "fit/fitparse__Edge810-Vector-2013-08-16-15-35-10.fit"
FIRST, LAST = 1000, 1600


@pytest.fixture(scope="module")
def track():
    return decode.decode(Path(require_corpus(), RIDE).read_bytes(), "fit")


def test_a_stretch_of_a_ride_matches_the_ride_at_its_own_offsets(track):
    segment = shape.from_track(track, start_index=FIRST, end_index=LAST)
    efforts = match.match(track, segment)
    own = efforts[0]
    assert (own.start_index, own.end_index) == (FIRST, LAST)
    t0 = track.time[0]
    assert own.start_offset_s == pytest.approx(track.time[FIRST] - t0, abs=0.01)
    assert own.end_offset_s == pytest.approx(track.time[LAST] - t0, abs=0.01)
    # One point a second: the time-weighted mean is about the mean of the points.
    assert own.average_power == pytest.approx(np.nanmean(track.power[FIRST:LAST + 1]), rel=0.01)
    assert own.average_hr == pytest.approx(np.nanmean(track.hr[FIRST:LAST + 1]), rel=0.01)
    # The ride comes back past the stretch's start, and later past its end: a second lap.
    after = np.arange(track.n) > LAST
    back = after & (geo.haversine_m(track.lat, track.lon, track.lat[FIRST],
                                    track.lon[FIRST]) < 25.0)
    on = np.arange(track.n) > np.argmax(back)
    assert back.any() and (on & (geo.haversine_m(track.lat, track.lon, track.lat[LAST],
                                                  track.lon[LAST]) < 25.0)).any()
    assert len(efforts) == 2
    for effort in efforts[1:]:
        for index, lat, lon in ((effort.start_index, segment.lat[0], segment.lon[0]),
                                (effort.end_index, segment.lat[-1], segment.lon[-1])):
            assert geo.haversine_m(track.lat[index], track.lon[index], lat, lon) < 25.0
    assert cells.start_cell(segment) in cells.cells_for_track(track)
