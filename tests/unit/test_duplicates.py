"""Probable duplicates: the corpus's own doubles are found and nothing else is, each FIT
ride or run written out as GPX is found as the FIT's double, and the rule's edges hold on
synthetic tracks."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from core import decode, duplicates
from core.decode import DecodeError
from core.track import Track
from core.writers import Meta, write
from tests.corpus import require_corpus, rows


@cache
def _corpus() -> dict[str, Track]:
    """Every corpus activity Cairn reads that has times, by file."""
    root, found = require_corpus(), {}
    for row in rows():
        if row["folder"] not in ("fit", "gpx"):
            continue
        try:
            track = decode.decode(Path(root, row["file"]).read_bytes(), row["format"])
        except DecodeError:
            continue
        if duplicates.of_track(track) is not None:
            found[row["file"]] = track
    return found


def _seconds(track: Track) -> set[int]:
    return set(np.round(track.time[~np.isnan(track.time)]).astype(int).tolist())


def _same_recording(a: Track, b: Track) -> bool:
    """The truth the detector does not read: one recording when most of the shorter one's
    recorded seconds are also the other's (the same device's clock, point for point)."""
    first, second = _seconds(a), _seconds(b)
    return len(first & second) >= 0.5 * min(len(first), len(second))


@pytest.mark.corpus
def test_the_corpus_doubles_are_found_and_no_false_pair():
    tracks = _corpus()
    names = sorted(tracks)
    found = {(names[a], names[b]) for a, b in duplicates.pairs(
        {i: duplicates.of_track(tracks[name]) for i, name in enumerate(names)})}
    truth = {(a, b) for i, a in enumerate(names) for b in names[i + 1:]
             if _same_recording(tracks[a], tracks[b])}
    # The corpus has doubles of its own: a FIT and its GPX from one repository, a track
    # with and without elevations, a triathlon and its swim leg.
    assert len(truth) >= 10
    assert found == truth


@pytest.mark.corpus
def test_every_fit_with_positions_written_as_gpx_is_found_as_its_double():
    tracks = _corpus()
    fits = [name for name, track in tracks.items()
            if name.endswith(".fit") and duplicates.of_track(track).placed]
    assert len(fits) >= 20
    for name in fits:
        again = decode.decode(write(tracks[name], Meta(), "gpx"), "gpx")
        assert duplicates.probable(duplicates.of_track(tracks[name]),
                                   duplicates.of_track(again)), name


def _run(start: float, *, seconds: int = 3600, north_m: float = 0.0,
         positions: bool = True, step: int = 1) -> duplicates.Footprint:
    """A run heading east at 3 m/s from `start` (epoch seconds), `north_m` off the line."""
    t = start + np.arange(0, seconds, step, dtype=float)
    if not positions:
        return duplicates.footprint(t)
    lat = np.full(len(t), 46.0 + north_m / 111_320)
    lon = 14.5 + (t - start) * 3 / (111_320 * np.cos(np.radians(46.0)))
    return duplicates.footprint(t, lat, lon)


T0 = 1_700_000_000.0


def test_two_devices_on_one_run_are_a_pair_even_metres_apart_and_at_other_rates():
    assert duplicates.probable(_run(T0), _run(T0 + 2, north_m=30, step=5))


def test_the_same_route_on_another_day_is_not_a_pair():
    assert not duplicates.probable(_run(T0), _run(T0 + 86_400))


def test_a_run_at_the_same_time_elsewhere_is_not_a_pair():
    assert not duplicates.probable(_run(T0), _run(T0, north_m=500))


def test_an_overlap_of_half_the_shorter_or_less_is_not_a_pair():
    # Without positions, so that only the times decide (each lasts 3,599 s).
    assert not duplicates.probable(_run(T0, positions=False),
                                   _run(T0 + 1800, positions=False))
    assert duplicates.probable(_run(T0, positions=False), _run(T0 + 1790, positions=False))


def test_an_indoor_ride_and_the_watch_on_it_are_a_pair():
    assert duplicates.probable(_run(T0, positions=False), _run(T0 + 60))


def test_without_times_there_is_no_footprint():
    assert duplicates.footprint([np.nan, np.nan], [46.0, 46.1], [14.0, 14.1]) is None


def test_pairs_compares_only_what_meets_in_time():
    footprints = {1: _run(T0), 2: _run(T0 + 86_400), 3: _run(T0 + 10, north_m=20),
                  4: _run(T0 + 86_400 + 5)}
    assert duplicates.pairs(footprints) == [(1, 3), (2, 4)]
