"""hrTSS (Banister's TRIMP scaled to an hour at LTHR) against hand-worked values and a
point-by-point reference on the corpus; aerobic decoupling against hand-worked halves and
a half-second-slice reference."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.track import Track
from core.training import heartrate
from tests import training
from tests.unit.derivers.tracks import T0, northward

REST, LTHR, MAX = 50.0, 170.0, 190.0


def session(hr, *, time=None, **columns) -> Track:
    hr = np.asarray(hr, dtype=float)
    time = T0 + np.arange(len(hr), dtype=float) if time is None else np.asarray(time)
    return Track(format="fit", sport="cycling", columns={"time": time, "hr": hr} | columns)


def score(track: Track) -> float | None:
    return heartrate.hr_tss(track, lthr=LTHR, hr_rest=REST, hr_max=MAX)


def banister(hr: float) -> float:
    """Morton et al.'s weight, with its factor 0.64, per minute."""
    x = min(max((hr - REST) / (MAX - REST), 0.0), 1.0)
    return 0.64 * x * math.exp(1.92 * x)


def test_an_hour_at_lthr_is_100():
    assert score(session(np.full(3601, LTHR))) == pytest.approx(100.0)


def test_an_easy_hour_by_hand():
    # Reserve 80/140 = 4/7 against 120/140 = 6/7 at LTHR:
    # 100 · (4/7 · e^(1.92·4/7)) / (6/7 · e^(1.92·6/7)) = 100 · 2/3 · e^(−1.92·2/7) = 38.52
    expected = 100 * 2 / 3 * math.exp(-1.92 * 2 / 7)
    assert expected == pytest.approx(38.52, abs=0.005)
    assert score(session(np.full(3601, 130.0))) == pytest.approx(expected)


def test_trimp_minutes_scaled_to_the_threshold_hour():
    # Half an hour at 180 bpm, half at 120: TRIMP minutes over 60 TRIMP minutes at LTHR.
    hr = np.r_[np.full(1800, 180.0), np.full(1801, 120.0)]
    expected = 100 * (30 * banister(180) + 30 * banister(120)) / (60 * banister(LTHR))
    assert score(session(hr)) == pytest.approx(expected)


def test_below_rest_counts_nothing_above_max_counts_as_max():
    assert score(session(np.full(3601, 40.0))) == 0.0
    assert score(session(np.full(3601, 205.0))) == pytest.approx(
        score(session(np.full(3601, MAX))))


def test_seconds_without_a_reading_or_across_a_pause_count_nothing():
    hr = np.full(3601, LTHR)
    hr[:1800] = np.nan  # the strap put on half an hour late
    assert score(session(hr)) == pytest.approx(50.0)
    hr = np.full(3601, LTHR)
    hr[1000:1900] = 0.0  # the strap's 0: lost contact
    assert score(session(hr)) == pytest.approx(75.0)
    time = T0 + np.arange(3601, dtype=float)
    time[1800:] += 3 * 3600
    assert score(session(np.full(3601, LTHR), time=time)) == pytest.approx(3599 / 36)


@pytest.mark.parametrize(("lthr", "rest", "top"), [
    (None, 50, 190),  # no LTHR
    (170, None, 190),  # no resting heart rate
    (170, 50, None),  # no maximum
    (195, 50, 190),  # LTHR above the maximum
    (170, 175, 190),  # rest above LTHR
    (170, 0, 190),  # no real resting rate
])
def test_unusable_thresholds_give_none(lthr, rest, top):
    assert not heartrate.is_valid(lthr=lthr, hr_rest=rest, hr_max=top)
    assert heartrate.hr_tss(session(np.full(100, 150.0)), lthr=lthr, hr_rest=rest,
                            hr_max=top) is None


def test_no_heart_rate_or_time_gives_none():
    assert score(session(np.full(100, np.nan))) is None
    assert score(session(np.full(100, 150.0), time=np.full(100, np.nan))) is None
    assert score(session([150.0])) is None  # one point: no second of recording


@pytest.mark.corpus
def test_corpus_hr_tss_matches_a_point_by_point_sum():
    files = {name: track for name, track in training.with_hr().items()
             if training.has_whole_seconds(track)}
    assert len(files) >= 25
    per_second_at_threshold = banister(LTHR) / 60
    for name, track in files.items():
        values, _ = training.slow_grid(track, "hr", trim=False)
        readings = [v for v in values if v == v and v > 0]
        expected = (100 * sum(banister(v) / 60 for v in readings)
                    / (3600 * per_second_at_threshold)) if readings else None
        if expected is None:
            assert score(track) is None, name
        else:
            assert score(track) == pytest.approx(expected, rel=1e-9), name


def test_drift_by_hand_on_power():
    # Steady 200 W; heart rate 140 for the first half hour, 154 for the second:
    # (200/140 − 200/154) / (200/140) = 1 − 140/154 = 9.09 %.
    hr = np.r_[np.full(1800, 140.0), np.full(1801, 154.0)]
    out = heartrate.drift(session(hr, power=np.full(3601, 200.0)))
    assert out.basis == "power"
    assert out.first_ratio == pytest.approx(200 / 140)
    assert out.percent == pytest.approx((1 - 140 / 154) * 100)


def test_drift_by_hand_on_speed():
    n = 3601
    track = northward(n, speed_mps=5.0, sport="running",
                      hr=np.r_[np.full(1800, 140.0), np.full(n - 1800, 150.0)])
    out = heartrate.drift(track)
    assert out.basis == "speed"
    assert out.first_ratio == pytest.approx(5 / 140, rel=1e-3)
    assert out.percent == pytest.approx((1 - 140 / 150) * 100, rel=1e-3)


def slow_drift(time, watts, hr) -> float:
    """Each moving step cut into half-second slices carrying its first point's values;
    the first half of the slices against the second."""
    slices = []
    for i in range(len(time) - 1):
        step = time[i + 1] - time[i]
        if 0 < step <= 120:  # motion.GAP_S; no speed here, so every short step moves
            slices += [(watts[i], hr[i])] * int(step * 2)
    half = len(slices) // 2

    def ratio(part):
        known = [(w, h) for w, h in part if w == w and h == h and h > 0]
        return sum(w for w, _ in known) / sum(h for _, h in known)

    first, second = ratio(slices[:half]), ratio(slices[half:])
    return (first - second) / first * 100


@pytest.mark.parametrize("seed", range(3))
def test_drift_matches_half_second_slices(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    time = T0 + np.cumsum(rng.choice([1.0, 1.0, 2.0, 3.0, 300.0], n, p=[.5, .2, .2, .09, .01]))
    watts = rng.integers(100, 300, n).astype(float)
    hr = np.linspace(130, 160, n) + rng.normal(0, 3, n)
    hr[rng.random(n) < 0.05] = np.nan
    out = heartrate.drift(session(hr, time=time, power=watts))
    assert out.percent == pytest.approx(slow_drift(time, watts, hr), rel=1e-9)


def test_no_drift_for_short_or_outputless_sessions():
    short = session(np.full(1000, 140.0), power=np.full(1000, 200.0))  # under 20 min
    assert heartrate.drift(short) is None
    zero = session(np.full(3601, 140.0), power=np.zeros(3601))  # no output to compare
    assert heartrate.drift(zero) is None
    assert heartrate.drift(session(np.full(3601, np.nan), power=np.full(3601, 200.0))) is None
