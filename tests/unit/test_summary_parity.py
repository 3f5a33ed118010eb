"""The summary a rebuild gives is the summary version 4 gave, exactly: on every corpus file
(from its stored track, as the reconciler reads it) and on generated edge cases.

tests/files/summary_v4.json holds what the version-4 code computed (version 3's numbers,
computed before the summary was vectorised, and the start's time zone), written by
`python -m tests.unit.test_summary_parity --write` at that code. A change that moves any
of these numbers must bump the summary deriver's version (a rollout), and the file is then
written again by the new code.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from core.derivers import summary, track
from core.errors import DeriveError
from core.track import Session, Track
from tests.corpus import corpus_dir, require_corpus, rows

GOLDEN = Path(__file__).resolve().parents[1] / "files" / "summary_v4.json"
T0 = 1714543200.0  # 2024-05-01T06:00:00Z


def _walk(n: int, *, seed: int, step_s: float = 1.0, speed: float = 4.0) -> dict:
    """n points of a noisy walk near Ljubljana, `step_s` apart, about `speed` m/s."""
    rng = np.random.default_rng(seed)
    heading = np.cumsum(rng.normal(0, 0.2, n))
    metres = speed * step_s * (1 + rng.normal(0, 0.3, n))
    lat = 46.05 + np.cumsum(metres * np.cos(heading)) / 111_320 + rng.normal(0, 3e-5, n)
    lon = 14.5 + np.cumsum(metres * np.sin(heading)) / 77_300 + rng.normal(0, 3e-5, n)
    return {"time": T0 + np.arange(n) * step_s, "lat": lat, "lon": lon,
            "ele": 300 + np.cumsum(rng.normal(0, 0.5, n)), "hr": 130 + rng.integers(0, 40, n)}


def _track(columns: dict, **fields) -> Track:
    return Track(format=fields.pop("format", "gpx"), columns=columns, **fields)


def edge_cases() -> dict[str, Track]:
    """Small and awkward tracks: every branch of the summary, deterministic."""
    walk = _walk(600, seed=1)
    spiky = _walk(600, seed=2)
    spiky["lat"][[50, 51, 300, 420]] += [0.5, 0.5, -0.3, 0.2]  # a double spike and two single
    paused = _walk(900, seed=3)
    paused["time"][300:] += 600  # a 10-minute pause
    paused["time"][600:] += 5 * 3600  # and a second part
    backwards = _walk(300, seed=4)
    backwards["time"][[100, 200]] -= 5
    holes = _walk(400, seed=5)
    holes["lat"][50:80] = np.nan
    holes["lon"][50:80] = np.nan
    holes["ele"][::3] = np.nan
    holes["hr"][:100] = 0
    partly = _walk(400, seed=6)
    partly["time"][200:] = np.nan
    zero = _walk(100, seed=7)
    zero["lat"][:10] = 0.0
    zero["lon"][:10] = 0.0
    device = _walk(500, seed=8)
    device["speed"] = np.abs(np.random.default_rng(8).normal(4, 1, 500))
    device["dist"] = np.cumsum(device["speed"])
    device["cadence"] = np.r_[np.zeros(100), np.full(400, 85.0)]
    device["power"] = np.full(500, 210.0)
    session = Session(sport="running", start_time=T0, elapsed_s=520.0, timer_s=480.0,
                      distance_m=2000.0, avg_hr=150.0, max_hr=175.0, max_speed_mps=7.0)
    slow = _walk(200, seed=9, step_s=300.0, speed=1.0)  # a logger: a point every 5 min
    sparse = _walk(4, seed=10)
    return {
        "one point": _track({k: v[:1] for k, v in walk.items()}),
        "two points": _track({k: v[:2] for k, v in walk.items()}),
        "four points": _track(sparse),
        "no timestamps": _track({k: v for k, v in walk.items() if k != "time"}),
        "no altitude": _track({k: v for k, v in walk.items() if k != "ele"}),
        "no positions": _track({"time": walk["time"], "hr": walk["hr"]}, format="fit"),
        "walk": _track(walk),
        "walk, two segments": _track(walk, segment_starts=(0, 250)),
        "spikes": _track(spiky),
        "pauses and parts": _track(paused),
        "backwards times": _track(backwards),
        "holes and missing altitude": _track(holes),
        "partly timed": _track(partly),
        "zero positions": _track(zero),
        "device columns": _track(device, format="fit"),
        "device session": _track(device, format="fit", sessions=(session,), sport="running"),
        "logger": _track(slow),
        "standing still": _track({**walk, "lat": np.full(600, 46.05),
                                  "lon": np.full(600, 14.5)}),
    }


def corpus_tracks() -> dict[str, Track]:
    """MANIFEST file -> its track as stored (encoded and decoded), for every activity."""
    found = {}
    for row in rows():
        try:
            built = track.build_track(Path(corpus_dir(), row["file"]).read_bytes())
        except DeriveError:
            continue  # not an activity, or unreadable: tests/unit/test_corpus.py's business
        found[row["file"]] = track.TRACK.codec.loads(track.TRACK.codec.dumps(built))
    return found


def summarized(tracks: dict[str, Track]) -> dict[str, dict]:
    """Each track's summary as stored (JSON), or the code of the error it gives."""
    out = {}
    for name, value in tracks.items():
        try:
            out[name] = json.loads(summary.SUMMARY.codec.dumps(summary.SUMMARY.derive(value)))
        except DeriveError as error:
            out[name] = {"error": error.code}
    return out


@pytest.fixture(scope="module")
def golden() -> dict:
    return json.loads(GOLDEN.read_text())


def test_edge_cases_summarise_as_version_4_did(golden):
    assert summarized(edge_cases()) == golden["cases"]


def test_an_empty_track_has_no_summary(golden):
    assert summarized({"empty": _track({})}) == {"empty": golden["empty"]}


@pytest.mark.corpus
def test_every_corpus_file_summarises_as_version_4_did(golden):
    require_corpus()
    found = summarized(corpus_tracks())
    assert len(found) >= 85
    differ = {name: (value, golden["corpus"].get(name)) for name, value in found.items()
              if value != golden["corpus"].get(name)}
    assert differ == {}


def _write() -> None:
    require_corpus()
    GOLDEN.write_text(json.dumps({
        "version": summary.SUMMARY.version,
        "empty": summarized({"empty": _track({})})["empty"],
        "cases": summarized(edge_cases()),
        "corpus": summarized(corpus_tracks()),
    }, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    _write()
