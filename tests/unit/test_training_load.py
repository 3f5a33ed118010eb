"""activity_load: which source gives an activity's load, and the reason when none can."""

from __future__ import annotations

import numpy as np
import pytest

from core.track import Track
from core.training import heartrate, load, power
from tests.unit.derivers.tracks import T0

HR = {"lthr": 170.0, "hr_rest": 50.0, "hr_max": 190.0}


def activity(n=3601, *, watts=None, hr=None, timed=True) -> Track:
    columns = {"time": T0 + np.arange(n, dtype=float) if timed else np.full(n, np.nan)}
    if watts is not None:
        columns["power"] = np.full(n, float(watts))
    if hr is not None:
        columns["hr"] = np.full(n, float(hr))
    return Track(format="fit", sport="cycling", columns=columns)


def test_power_and_ftp_give_tss():
    track = activity(watts=250, hr=150)
    out = load.activity_load(track, ftp_w=250, **HR)
    assert (out.source, out.reason) == ("power", None)
    assert out.value == pytest.approx(100.0)  # an hour at FTP
    assert out.value == power.ride(track, ftp_w=250).tss


def test_heart_rate_stands_in_without_ftp():
    track = activity(watts=250, hr=170)
    out = load.activity_load(track, ftp_w=None, **HR)
    assert out.source == "heart_rate"
    assert out.value == pytest.approx(100.0)  # an hour at LTHR
    assert out.value == heartrate.hr_tss(track, **HR)


def test_heart_rate_stands_in_when_power_is_too_short():
    track = activity(20, watts=250, hr=170)
    out = load.activity_load(track, ftp_w=250, **HR)
    assert out.source == "heart_rate"
    assert out.value == pytest.approx(100 * 19 / 3600)


@pytest.mark.parametrize(("track", "thresholds", "reason"), [
    # no timestamps at all
    (activity(watts=200, hr=150, timed=False), {"ftp_w": 250, **HR}, "no_timestamps"),
    # a single point cannot be timed
    (activity(1, watts=200, hr=150), {"ftp_w": 250, **HR}, "no_timestamps"),
    # neither column
    (activity(), {"ftp_w": 250, **HR}, "no_power_or_hr"),
    # a strap that only sent zeros recorded nothing
    (activity(hr=0), {**HR}, "no_power_or_hr"),
    # power without an FTP, no heart rate
    (activity(watts=200), {**HR}, "no_threshold"),
    # heart rate without its thresholds (no resting rate), no power
    (activity(hr=150), {"ftp_w": 250, "lthr": 170, "hr_max": 190}, "no_threshold"),
    # both columns, neither threshold
    (activity(watts=200, hr=150), {}, "no_threshold"),
    # power with an FTP but under 30 s of it, no heart rate
    (activity(20, watts=200), {"ftp_w": 250}, "too_short"),
])
def test_no_load_says_why(track, thresholds, reason):
    out = load.activity_load(track, **thresholds)
    assert (out.value, out.source, out.reason) == (None, None, reason)
