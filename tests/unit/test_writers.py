"""Exports written from real tracks decode back to the same points, at each format's
precision, in Cairn's decoders and in gpxpy and fitparse; and what a format cannot hold is
refused in a sentence."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

import fitparse
import gpxpy
import numpy as np
import pytest

from core import decode
from core.decode import DecodeError
from core.track import Track
from core.writers import Meta, WriteError, write
from tests.corpus import require_corpus, rows

#: Small enough that every format of every one of them takes a few seconds in all.
MAX_BYTES = 250_000
FILES = [r["file"] for r in rows() if r["folder"] in ("fit", "gpx")
         and int(r["size_bytes"]) <= MAX_BYTES]

#: Column -> largest difference each format's precision allows (None: not carried).
TOLERANCE = {
    "gpx": {"time": 0.0005, "lat": 5.1e-8, "lon": 5.1e-8, "ele": 0.0051, "hr": 0.5,
            "cadence": 0.5, "power": 0.5, "dist": None, "speed": None},
    "tcx": {"time": 0.0005, "lat": 5.1e-8, "lon": 5.1e-8, "ele": 0.0051, "dist": 0.0051,
            "speed": 0.00051, "hr": 0.5, "cadence": 0.5, "power": 0.5},
    # FIT: whole seconds; semicircles (180 / 2**31 degree); altitude in fifths of a metre.
    "fit": {"time": 1.0, "lat": 1e-7, "lon": 1e-7, "ele": 0.101, "dist": 0.0051,
            "speed": 0.00051, "hr": 0.5, "cadence": 0.5, "power": 0.5},
}


def _kept(track: Track, fmt: str) -> np.ndarray:
    """The points the format can hold: GPX those with a position, TCX and FIT timed ones."""
    if fmt == "gpx":
        return ~np.isnan(track.lat) & ~np.isnan(track.lon)
    return ~np.isnan(track.time)


@cache
def _track(name: str) -> Track:
    """The file's track, decoded once for the three formats (a skip is not kept)."""
    path = Path(require_corpus(), name)
    try:
        track = decode.decode(path.read_bytes(), name.rsplit(".", 1)[1])
    except DecodeError as error:
        pytest.skip(f"not an activity Cairn reads ({error.code})")
    if track.n == 0:
        pytest.skip("no points")
    return track


@pytest.mark.corpus
@pytest.mark.parametrize("fmt", ["gpx", "tcx", "fit"])
@pytest.mark.parametrize("name", FILES)
def test_an_export_decodes_back_to_the_same_points(name, fmt):
    track = _track(name)
    kept = _kept(track, fmt)
    if not kept.any():
        with pytest.raises(WriteError):
            write(track, Meta(), fmt)
        return
    data = write(track, Meta(name="Out & back <1>", sport=track.sport), fmt)
    back = decode.decode(data, fmt)
    assert back.n == int(kept.sum())
    for column, tolerance in TOLERANCE[fmt].items():
        before, after = track.columns[column][kept], back.columns[column]
        if tolerance is None:
            continue
        assert np.array_equal(np.isnan(before), np.isnan(after)), column
        present = ~np.isnan(before)
        if present.any():
            assert np.max(np.abs(before[present] - after[present])) <= tolerance, column
    if fmt == "gpx":
        assert back.name == "Out & back <1>"
        points = gpxpy.parse(data.decode()).get_points_data()
        assert len(points) == back.n
        assert np.allclose([p.point.latitude for p in points], back.lat, atol=1e-9)
    if fmt == "fit":
        records = list(fitparse.FitFile(io.BytesIO(data)).get_messages("record"))
        assert len(records) == back.n
        assert [r.get_value("heart_rate") for r in records] == [
            None if np.isnan(v) else round(v) for v in back.hr]


@pytest.mark.corpus
@pytest.mark.parametrize("fmt", ["gpx", "tcx", "fit"])
def test_writing_twice_gives_the_same_bytes(fmt):
    track = _track("fit/fitparse__Edge810-Vector-2013-08-16-15-35-10.fit")
    meta = Meta(name="Ride", sport=track.sport, description="Twice")
    assert write(track, meta, fmt) == write(track, meta, fmt)


def _synthetic(*, times: bool = True, positions: bool = True, segments=(0,)) -> Track:
    n = 6
    columns = {"ele": np.arange(n) * 1.5, "hr": np.full(n, 140.0)}
    if times:
        columns["time"] = 1_700_000_000.0 + np.arange(n) * 10
    if positions:
        columns["lat"] = 45.0 + np.arange(n) * 1e-4
        columns["lon"] = np.full(n, 6.0)
    return Track(format="gpx", sport="hiking", columns=columns, segment_starts=segments)


def test_gpx_of_an_activity_without_positions_is_refused_with_a_sentence():
    with pytest.raises(WriteError, match="no positions.*TCX or FIT"):
        write(_synthetic(positions=False), Meta(), "gpx")
    assert decode.decode(write(_synthetic(positions=False), Meta(), "fit"), "fit").n == 6


@pytest.mark.parametrize("fmt", ["tcx", "fit"])
def test_tcx_and_fit_of_an_activity_without_times_are_refused_with_a_sentence(fmt):
    with pytest.raises(WriteError, match="no times.*GPX"):
        write(_synthetic(times=False), Meta(), fmt)


def test_an_unknown_format_is_refused():
    with pytest.raises(WriteError, match="no 'kml' format"):
        write(_synthetic(), Meta(), "kml")


@pytest.mark.parametrize("fmt", ["gpx", "fit"])
def test_segments_stay_segments(fmt):
    back = decode.decode(write(_synthetic(segments=(0, 3)), Meta(sport="hiking"), fmt), fmt)
    assert back.segment_starts == (0, 3)
    assert back.sport == "hiking"


def test_tcx_names_the_sport_it_knows_and_keeps_the_name_in_its_notes():
    ride = Track(format="fit", sport="cycling", columns=_synthetic().columns)
    data = write(ride, Meta(name="Col & café", sport="cycling", description="Windy"), "tcx")
    assert b'Sport="Biking"' in data and b"<Notes>Col &amp; caf\xc3\xa9\n\nWindy</Notes>" in data
    assert decode.decode(data, "tcx").sport == "cycling"
    assert b'Sport="Other"' in write(_synthetic(), Meta(sport="hiking"), "tcx")
