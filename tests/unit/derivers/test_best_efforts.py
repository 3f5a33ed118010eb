"""best_efforts: against a brute-force reference, on made-up tracks with known answers,
on GPS glitches (a teleport makes no record) and on the corpus."""

from __future__ import annotations

import numpy as np
import pytest

from core import distance, efforts, motion
from core.derivers.best_efforts import BEST_EFFORTS
from core.track import Track
from tests.unit.derivers.tracks import ONE_DEGREE_M, T0, northward, without_gps


def brute_fastest(t, d, metres):
    """The same definition, the slow way: every point as the end, walking back to the
    start; every point as the start, walking on to the end; linear within a step."""
    best = None
    n = len(d)
    for j in range(n):
        x = d[j] - metres
        if x < 0:
            continue
        i = max(k for k in range(n) if d[k] <= x)
        start = t[i] if d[i] == x else t[i] + (x - d[i]) / (d[i + 1] - d[i]) * (t[i + 1] - t[i])
        best = min(best, t[j] - start) if best is not None else t[j] - start
    for i in range(n):
        x = d[i] + metres
        if x > d[-1]:
            continue
        j = min(k for k in range(n) if d[k] >= x)
        h = j - 1
        end = t[j] if d[j] == x else t[h] + (x - d[h]) / (d[j] - d[h]) * (t[j] - t[h])
        best = min(best, end - t[i]) if best is not None else end - t[i]
    return best


def brute_power(watts, seconds):
    return max(sum(watts[i:i + seconds]) / seconds for i in range(len(watts) - seconds + 1))


def run(n: int, speeds, *, sport="running", **columns) -> Track:
    """A track north at the given per-second speeds (one per step)."""
    steps = np.asarray(speeds, dtype=float)
    metres = np.concatenate([[0.0], np.cumsum(steps)])
    assert len(metres) == n
    return Track(format="gpx", sport=sport,
                 columns={"time": T0 + np.arange(n, dtype=float),
                          "lat": 46.0 + metres / ONE_DEGREE_M, "lon": np.full(n, 14.0)} | columns)


def test_even_pace_gives_distance_over_speed():
    track = northward(3001, speed_mps=4.0, sport="running")  # 12 km at 4 m/s
    out = BEST_EFFORTS.derive(track)["running"]
    assert out["5k"]["value"] == pytest.approx(1250.0, abs=0.2)
    assert out["10k"]["value"] == pytest.approx(2500.0, abs=0.3)
    assert out["1mile"]["value"] == pytest.approx(1609.344 / 4, abs=0.2)
    assert "half_marathon" not in out  # too short
    fast = out["400m"]
    assert fast["end_offset_s"] - fast["start_offset_s"] == pytest.approx(100, abs=0.2)


def test_the_fast_stretch_is_found_where_it_is():
    speeds = [3.0] * 600 + [5.0] * 200 + [3.0] * 600  # 1 km at 5 m/s from 600 s
    out = BEST_EFFORTS.derive(run(1401, speeds))["running"]["1k"]
    assert out["value"] == pytest.approx(200.0, abs=0.2)
    assert out["start_offset_s"] == pytest.approx(600.0, abs=0.5)
    assert out["end_offset_s"] == pytest.approx(800.0, abs=0.5)


def test_a_stretch_may_start_between_points():
    # Points every 10 s at 3.7 m/s: 400 m is 108.1 s, not a multiple of the step.
    n = 100
    t = np.arange(n) * 10.0
    d = np.arange(n) * 37.0
    took = efforts.fastest(t, d, 400.0)
    assert took[0] == pytest.approx(400 / 3.7)


@pytest.mark.parametrize("seed", range(8))
def test_matches_brute_force_on_random_tracks(seed):
    rng = np.random.default_rng(seed)
    n = 300
    t = np.cumsum(rng.uniform(0.5, 6.0, n))
    d = np.cumsum(np.where(rng.random(n) < 0.1, 0.0, rng.uniform(0, 30, n)))  # stops too
    d -= d[0]
    for metres in (50.0, 400.0, 1000.0, 2500.0):
        found = efforts.fastest(t, d, metres)
        expected = brute_fastest(t, d, metres)
        if expected is None:
            assert found is None
        else:
            assert found[0] == pytest.approx(expected)
            assert found[2] - found[1] == pytest.approx(found[0])


def test_power_windows_match_brute_force():
    rng = np.random.default_rng(3)
    n = 4000
    watts = rng.integers(100, 400, n).astype(float)
    track = northward(n, speed_mps=8.0, sport="cycling", power=watts)
    out = BEST_EFFORTS.derive(track)["cycling"]
    # Each 1 s cell holds the reading at its start: the readings themselves, but the last.
    for kind, seconds in efforts.POWER_WINDOWS.items():
        assert out[kind]["value"] == round(brute_power(list(watts[:-1]), seconds))


def test_constant_power_with_a_pause():
    n = 4000
    time = T0 + np.arange(n, dtype=float)
    time[2000:] += 3600  # an hour's café stop: not counted as seconds at 0 W
    track = Track(format="fit", sport="cycling",
                  columns={"time": time, "power": np.full(n, 250.0),
                           "dist": np.arange(n) * 8.0})
    out = BEST_EFFORTS.derive(track)["cycling"]
    assert out["power_60min"]["value"] == 250
    assert out["power_60min"]["end_offset_s"] > 3600 + 3600  # spans the stop, elapsed


def test_device_distance_is_used_without_gps():
    out = BEST_EFFORTS.derive(without_gps(2000))["cycling"]  # 8 m/s on a trainer
    assert out["10k"]["value"] == pytest.approx(1250.0, abs=0.2)


def test_a_teleport_makes_no_record():
    # A steady 3 m/s run, then one fix 1.5 km further on, and the track goes on from
    # there (a jump the track never comes back from).
    speeds = [3.0] * 500 + [1500.0] + [3.0] * 500
    out = BEST_EFFORTS.derive(run(1002, speeds))["running"]
    assert out["1k"]["value"] >= 1000 / 3.0 - 0.5
    assert "5k" not in out  # 3 km run, whatever the jump adds


def test_a_jump_below_the_global_glitch_speed_is_no_record_either():
    # 400 m in 10 s (40 m/s): possible for a car, not for a runner.
    speeds = [3.0] * 300 + [40.0] * 10 + [3.0] * 300
    out = BEST_EFFORTS.derive(run(611, speeds))["running"]
    assert out["400m"]["value"] >= 400 / efforts.RUN_CEILING_MPS
    assert out["400m"]["value"] == pytest.approx(400 / 3.0, abs=0.5)


def test_a_device_distance_jump_is_no_record():
    n = 2000
    dist = np.arange(n) * 3.0
    dist[1000:] += 20_000  # the counter jumps 20 km in a second
    track = Track(format="fit", sport="running",
                  columns={"time": T0 + np.arange(n, dtype=float), "dist": dist})
    out = BEST_EFFORTS.derive(track)["running"]
    assert "10k" not in out
    # The 5k spans the jump, whose second counts without its metres.
    assert out["5k"]["value"] == pytest.approx(5000 / 3.0 + 1, abs=0.5)


def test_a_spike_out_and_back_makes_no_record():
    track = northward(2001, speed_mps=3.0, sport="running")
    lat = track.lat.copy()
    lat[1000] += 2000 / ONE_DEGREE_M  # 2 km out and back in two seconds
    spiked = Track(format="gpx", sport="running",
                   columns={"time": track.time, "lat": lat, "lon": track.lon})
    out = BEST_EFFORTS.derive(spiked)["running"]
    # The spike's point is left out and stands where the last fix was (distance.along_m),
    # so its neighbour's step of two seconds reads as one: a second at most, not 2 km.
    assert 1000 / 3.0 - 1.5 <= out["1k"]["value"] <= 1000 / 3.0 + 0.5


def test_untimed_track_has_no_efforts():
    track = Track(format="gpx", columns={"lat": 46 + np.arange(100) / 1000.0,
                                         "lon": np.full(100, 14.0)})
    assert BEST_EFFORTS.derive(track) == {"running": {}, "cycling": {}}


def test_empty_track_has_no_efforts():
    assert BEST_EFFORTS.derive(Track(format="gpx")) == {"running": {}, "cycling": {}}


@pytest.mark.corpus
def test_corpus_matches_brute_force(corpus_tracks):
    checked = 0
    for file, track in corpus_tracks.items():
        out = BEST_EFFORTS.derive(track)
        BEST_EFFORTS.codec.dumps(out)  # JSON without NaN
        time = motion.monotonic(track.time) if track.n else track.time
        if np.count_nonzero(np.isfinite(time)) < 2:
            continue
        t, d = efforts.capped(time, distance.along_m(track),
                              ceiling_mps=efforts.RUN_CEILING_MPS)
        if len(t) > 1500:  # the reference is quadratic: thin the points evenly
            pick = np.linspace(0, len(t) - 1, 1500).astype(int)
            t, d = t[pick], d[pick]
        for metres in (400.0, 1000.0):
            found, expected = efforts.fastest(t, d, metres), brute_fastest(t, d, metres)
            assert (found is None) == (expected is None), file
            if expected is not None:
                assert found[0] == pytest.approx(expected), file
                # No record beats the ceiling.
                assert metres / found[0] <= efforts.RUN_CEILING_MPS + 1e-6, file
                checked += 1
    assert checked >= 20
