"""The `splits` deriver: both units and the heart-rate histogram, as stored JSON."""

from __future__ import annotations

import numpy as np

from core.derivers.splits import SPLITS
from tests.unit.derivers.tracks import northward, without_gps


def test_both_units_and_the_histogram_are_stored():
    out = SPLITS.derive(northward(2001, speed_mps=1.0, hr=np.full(2001, 140.0)))
    assert len(out["km"]) == 2 and len(out["mile"]) == 2
    assert out["hr_histogram"] == {"from_bpm": 140, "seconds": [2000.0]}
    assert SPLITS.codec.loads(SPLITS.codec.dumps(out)) == out


def test_an_indoor_session_has_splits_from_the_device_distance():
    assert len(SPLITS.derive(without_gps(251))["km"]) == 2
