"""The third-party corpus (118 real files): decode, summarise and store each one, and hold
the results against the devices' own totals and gpxpy's numbers (MANIFEST.csv).

Every file is decoded once per test session (fitparse takes about 20 s for the lot).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from core import decode, summarize
from core import track as tracks
from core.derivers.base import DeriveError
from core.track import COLUMNS, Track
from tests.corpus import require_corpus, rows

pytestmark = pytest.mark.corpus


@dataclass(frozen=True)
class Outcome:
    row: dict[str, str]
    track: Track | None
    error: Exception | None


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    """MANIFEST file -> what decoding it gave, every corpus file decoded once."""
    folder = require_corpus()
    found = {}
    for row in rows():
        content = Path(folder, row["file"]).read_bytes()
        try:
            found[row["file"]] = Outcome(row, decode.decode(content, row["format"]), None)
        except Exception as error:  # judged by the tests: only DecodeError is allowed
            found[row["file"]] = Outcome(row, None, error)
    return found


def number(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()  # MANIFEST times carry "+00:00"


def is_readable(error: Exception) -> bool:
    """A sentence a person can read, and a one-word CamelCase code."""
    sentence = re.fullmatch(r"[A-Z][^\n]{10,400}\.", str(error))
    return bool(sentence and re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z]+)+", error.code))


def test_single_session_fit_summaries_match_the_device(outcomes):
    chosen = [o for o in outcomes.values() if o.row["folder"] == "fit"
              and o.row["n_sessions"] == "1" and o.row["fit_file_type"] == "activity"
              and o.row["total_distance_m"] and o.row["total_elapsed_time_s"]]
    missed = []
    for outcome in chosen:
        device_m = float(outcome.row["total_distance_m"])
        device_s = float(outcome.row["total_elapsed_time_s"])
        summary = summarize.summarize(outcome.track) if outcome.track else {}
        distance, elapsed = summary.get("distance_m"), summary.get("elapsed_s")
        if (distance is None or abs(distance - device_m) > 0.02 * device_m
                or elapsed is None or abs(elapsed - device_s) > 2):
            missed.append(f"{outcome.row['file']}: {distance} m / {elapsed} s, device "
                          f"{device_m} m / {device_s} s, {outcome.error!r}")
    print(f"\n{len(chosen) - len(missed)} of {len(chosen)} within 2 % and 2 s; missed:",
          *missed, sep="\n  ")
    assert len(chosen) >= 30
    assert len(missed) <= 0.05 * len(chosen), missed


def test_our_gps_distance_of_fit_files_is_close_to_the_device(outcomes):
    chosen = [o for o in outcomes.values() if o.row["folder"] == "fit" and o.track
              and o.row["fit_file_type"] == "activity"
              and int(o.row["n_records_with_position"] or 0) > 0.5 * int(o.row["n_records"])
              and o.row["total_distance_m"] and "|" not in o.row["total_distance_m"]
              and float(o.row["total_distance_m"]) > 100]
    ratios = {o.row["file"]: summarize.gps_distance_m(o.track) / float(o.row["total_distance_m"])
              for o in chosen}
    off = {name: round(ratio, 3) for name, ratio in ratios.items() if abs(ratio - 1) > 0.05}
    print(f"\n{len(ratios) - len(off)} of {len(ratios)} within 5 % of the device; off: {off}")
    assert len(ratios) >= 25
    assert len(off) <= 0.1 * len(ratios), off


def test_our_gpx_distance_matches_gpxpy(outcomes):
    chosen = [o for o in outcomes.values() if o.row["folder"] == "gpx" and o.track
              and number(o.row["length_2d_m"])]
    ratios = {o.row["file"]: summarize.summarize(o.track)["distance_m"]
              / float(o.row["length_2d_m"]) for o in chosen}
    off = {name: round(ratio, 4) for name, ratio in ratios.items() if abs(ratio - 1) > 0.01}
    print(f"\n{len(ratios) - len(off)} of {len(ratios)} within 1 % of gpxpy; off: {off}")
    assert len(ratios) >= 25
    assert not off


def test_every_file_gives_a_summary_or_a_readable_refusal(outcomes):
    bad = []
    for outcome in outcomes.values():
        if outcome.row["folder"] not in ("fit", "gpx"):
            continue
        error = outcome.error
        if error is None:
            try:
                json.dumps(summarize.summarize(outcome.track), allow_nan=False)
            except DeriveError as derive_error:
                error = derive_error
        if error is not None and not (isinstance(error, decode.DecodeError | DeriveError)
                                      and is_readable(error)):
            bad.append(f"{outcome.row['file']}: {error!r}")
    assert not bad


def test_files_no_reference_parser_reads_are_refused_readably(outcomes):
    unreadable = [o for o in outcomes.values() if o.row["folder"] == "invalid" and (
        (o.row["format"] == "fit" and o.row["fitparse_ok"] == "False"
         and o.row["fitdecode_lenient_ok"] == "False")
        or (o.row["format"] == "gpx" and o.row["gpx_parse_ok"] == "False"))]
    assert len(unreadable) >= 8
    wrong = [f"{o.row['file']}: {o.error!r}" for o in unreadable
             if not (isinstance(o.error, decode.DecodeError) and is_readable(o.error))]
    assert not wrong


def test_stored_tracks_round_trip_compactly(outcomes):
    sizes = {}
    for outcome in outcomes.values():
        if outcome.track is None:
            continue
        blob = tracks.encode(outcome.track)
        back = tracks.decode(blob)
        sizes[outcome.row["file"]] = (len(blob), outcome.track.n)
        assert back.sessions == outcome.track.sessions
        assert back.segment_starts == outcome.track.segment_starts
        for name, scale in COLUMNS.items():
            got, want = back.columns[name], outcome.track.columns[name]
            assert np.array_equal(np.isnan(got), np.isnan(want)), (outcome.row["file"], name)
            error = np.nanmax(np.abs(got - want), initial=0.0)
            assert error <= 0.5 / scale + 1e-6 * np.nanmax(np.abs(want), initial=0), (
                outcome.row["file"], name, error)
    # Files of 1,000 points or more: below that the header's fixed cost dominates.
    per_point = {name: size / n for name, (size, n) in sizes.items() if n >= 1000}
    worst = max(per_point, key=per_point.get)
    print(f"\nbytes per point over {len(per_point)} files of 1,000+ points: median "
          f"{np.median(list(per_point.values())):.2f}, worst {per_point[worst]:.2f} ({worst}); "
          f"all {sum(s for s, _ in sizes.values()) / sum(n for _, n in sizes.values()):.2f}")
    assert per_point[worst] < 16


def test_fit_records_match_an_independent_decoder(outcomes):
    """Record count, first and last timestamps and extent against fitdecode's (MANIFEST)."""
    checked, wrong = 0, []
    for outcome in outcomes.values():
        row, track = outcome.row, outcome.track
        if row["format"] != "fit" or track is None or not row["records_first_ts"]:
            continue
        checked += 1
        times = track.time[np.isfinite(track.time)]
        found = [track.n, float(times[0]), float(times[-1])]
        expected = [int(row["n_records"]), epoch(row["records_first_ts"]),
                    epoch(row["records_last_ts"])]
        box = summarize.summarize(track)["bbox"]
        extent = [number(row[f"records_{k}"]) for k in ("min_lat", "max_lat", "min_lon",
                                                         "max_lon")]
        # fitdecode's extent counts the 0/0 "no fix" points that Cairn drops on purpose.
        if extent[0] is not None and 0.0 not in extent:
            found += [box["min_lat"], box["max_lat"], box["min_lon"], box["max_lon"]]
            expected += extent
        if not np.allclose(found, expected, rtol=0, atol=0.0006):
            wrong.append(f"{row['file']}: {found} != {expected}")
    assert checked >= 40
    assert not wrong

