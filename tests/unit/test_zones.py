"""Heart-rate zones: the seconds at each rate, and time in zones from a maximum."""

from __future__ import annotations

import numpy as np
import pytest

from core import zones
from tests.unit.derivers.tracks import northward


def test_histogram_counts_seconds_at_each_rate():
    hr = np.concatenate([np.full(100, 120.0), np.full(50, 150.4), np.full(51, 0.0)])
    out = zones.hr_histogram(northward(201, hr=hr))
    assert out["from_bpm"] == 120
    assert out["seconds"][0] == 100
    assert out["seconds"][30] == 50  # 150.4 is 150
    assert sum(out["seconds"]) == 150  # the strap-off zeros count nowhere


def test_no_histogram_without_heart_rate():
    assert zones.hr_histogram(northward(50)) is None


@pytest.mark.parametrize(("bpm", "zone"), [(100, 0), (113, 0), (114, 1), (133, 2),
                                           (152, 3), (171, 4), (200, 4)])
def test_zones_are_fractions_of_the_maximum(bpm, zone):
    # Max 190: zone floors at 114, 133, 152 and 171 bpm.
    out = zones.time_in_zones({"from_bpm": bpm, "seconds": [60.0]}, 190)
    assert [z["seconds"] for z in out] == [60.0 if i == zone else 0 for i in range(5)]
    assert out[zone]["share"] == 1
    assert [z["low_bpm"] for z in out] == [0, 114, 133, 152, 171]
    assert out[-1]["high_bpm"] is None


def test_no_zones_without_a_histogram():
    assert zones.time_in_zones(None, 190) == []
