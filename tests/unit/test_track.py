"""core.track: the compact encoding round-trips a Track to the stored resolution."""

from __future__ import annotations

import numpy as np
import pytest

from core import track as tracks
from core.track import COLUMNS, Session, Track

T0 = 1714543200.0


def realistic(n: int = 3600) -> Track:
    """An hour's ride at 1 Hz with sensor noise and a few gaps."""
    rng = np.random.default_rng(42)
    heading = np.cumsum(rng.normal(0, 0.05, n))
    step = 8 + rng.normal(0, 0.5, n)
    columns = {
        "time": T0 + np.arange(n) + rng.choice([0.0, 0.001], n),
        "lat": 46 + np.cumsum(step * np.cos(heading)) / 111_195,
        "lon": 14 + np.cumsum(step * np.sin(heading)) / 77_000,
        "ele": 300 + np.cumsum(rng.normal(0, 0.3, n)),
        "dist": np.cumsum(step),
        "speed": step,
        "hr": np.rint(140 + rng.normal(0, 3, n)),
        "cadence": np.rint(85 + rng.normal(0, 2, n)),
        "power": np.rint(np.clip(220 + rng.normal(0, 40, n), 0, None)),
    }
    columns["hr"][100:160] = np.nan  # strap lost contact
    columns["lat"][2000] = columns["lon"][2000] = np.nan
    return Track(format="fit", sport="cycling", sub_sport="road", columns=columns,
                 segment_starts=(0, 1800),
                 sessions=(Session(sport="cycling", start_time=T0, elapsed_s=3599.0,
                                   distance_m=float(columns["dist"][-1])),))


def assert_same(decoded: Track, original: Track) -> None:
    assert decoded.n == original.n
    for name, scale in COLUMNS.items():
        got, want = decoded.columns[name], original.columns[name]
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=name)
        np.testing.assert_allclose(got, want, rtol=0, atol=0.5 / scale + 1e-9, err_msg=name,
                                   equal_nan=True)


def test_round_trip_keeps_values_to_the_column_resolution():
    original = realistic()
    assert_same(tracks.decode(tracks.encode(original)), original)


def test_round_trip_keeps_the_metadata():
    original = realistic()
    decoded = tracks.decode(tracks.encode(original))
    assert (decoded.format, decoded.sport, decoded.sub_sport) == ("fit", "cycling", "road")
    assert decoded.segment_starts == (0, 1800)
    assert decoded.sessions == original.sessions


def test_encoding_takes_a_few_bytes_per_point():
    original = realistic()
    assert len(tracks.encode(original)) / original.n < 16


def test_column_with_no_values_stays_missing():
    track = Track(format="gpx", columns={"time": T0 + np.arange(3.0)})
    decoded = tracks.decode(tracks.encode(track))
    assert np.isnan(decoded.hr).all() and decoded.n == 3


def test_empty_track_round_trips():
    decoded = tracks.decode(tracks.encode(Track(format="gpx")))
    assert decoded.n == 0


def test_leading_missing_values_round_trip():
    track = Track(format="gpx", columns={"ele": np.array([np.nan, np.nan, 5.0, 6.0])})
    decoded = tracks.decode(tracks.encode(track))
    np.testing.assert_array_equal(decoded.ele, [np.nan, np.nan, 5.0, 6.0])


def test_bytes_that_are_not_a_track_are_refused():
    with pytest.raises(tracks.TrackFormatError):
        tracks.decode(b"<gpx></gpx>")
