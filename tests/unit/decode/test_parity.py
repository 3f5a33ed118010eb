"""The fast decoders give the reference decoders' results (DESIGN.md, "Parse once").

Over every corpus file, and over generated files of every shape fitwriter makes up to
200,000 points, core.decode.decode (fast path first, reference behind it) gives the same
Track as fit.py or gpx.py, or the same refusal. The fast paths must also answer on their
own for every corpus file but those listed in FALLBACKS, so that a change which quietly
sends everything to the reference (parity kept, speed lost) fails here too.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import decode
from core.decode import Unsupported, fastfit, fastgpx, fit, gpx
from tests import factories
from tests import fitwriter as fw
from tests.corpus import require_corpus, rows
from tests.unit.decode.outcomes import differences, outcome

T0 = 1714543200.0  # 2024-05-01T06:00:00Z

#: Corpus files the fast paths hand to the reference decoder, and why.
FALLBACKS = {
    # Records with compressed_speed_distance: an accumulated 12-bit component.
    "fit/fitparse__compressed-speed-distance.fit": "component",
    "fit/fitparse__null_compressed_speed_dist.fit": "component",
    # Damaged FIT files: the reference decides how to refuse them.
    "invalid/fitparse__activity-settings-corruptheader.fit": "damaged",
    "invalid/fitparse__activity-settings-nodata.fit": "damaged",
    "invalid/fitparse__activity-unexpected-eof.fit": "damaged",
    "invalid/fitparse__nick.fit": "damaged",
    "invalid/fitparse__strava-android-app-201.10-b1218918.fit": "damaged",
    "invalid/sportslib__empty-activities.fit": "damaged",
    "invalid/sportslib__empty-sessions.fit": "damaged",
    # GPX without a track point: the reference says what the file holds instead.
    "gpx/gpxpy__gpx1.1_with_extensions.gpx": "no points",
    "gpx/gpxpy__gpx_with_garmin_extension.gpx": "no points",
    "gpx/gpxpy__route.gpx": "no points",
    "gpx/gpxpy__unicode_with_bom.gpx": "no points",
    "gpx/togeojson__empty_trk.gpx": "no points",
    "gpx/togeojson__trek.gpx": "no points",
    "gpx/togeojson__trek_no_rtept.gpx": "no points",
    "gpx/togeojson__wpt.gpx": "no points",
    # Bad XML (an unbound prefix) or a bad coordinate: gpxpy refuses the file.
    "invalid/sportslib__6037744996.gpx": "damaged",
    "invalid/sportslib__6048438275.gpx": "damaged",
    "invalid/togeojson__bad.gpx": "damaged",
}


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple]:
    """MANIFEST file -> (what core.decode gives, what the reference gives, fell back?)."""
    folder = require_corpus()
    found = {}
    for row in rows():
        content = Path(folder, row["file"]).read_bytes()
        fast, reference = (fastfit, fit) if row["format"] == "fit" else (fastgpx, gpx)
        try:
            fast.decode(content)
            fell_back = False
        except Unsupported:
            fell_back = True
        except decode.DecodeError:  # the fast path's own NotAnActivity / NoPoints
            fell_back = False
        found[row["file"]] = (outcome(lambda c, f=row["format"]: decode.decode(c, f), content),
                              outcome(reference.decode, content), fell_back)
    return found


@pytest.mark.corpus
def test_every_corpus_file_decodes_as_the_reference_decodes_it(corpus):
    wrong = {name: differences(got, want) for name, (got, want, _) in corpus.items()}
    assert not {name: found for name, found in wrong.items() if found}


@pytest.mark.corpus
def test_fast_paths_answer_every_corpus_file_but_the_known_fallbacks(corpus):
    assert {name for name, (_, _, fell_back) in corpus.items() if fell_back} == set(FALLBACKS)


def points(n: int, *, start: float = T0, step_s: float = 1.0) -> dict:
    """n records with every column fitwriter writes, some values missing."""
    i = np.arange(n)
    hr = np.where(i % 97 == 5, np.nan, 120 + i % 40)
    return {"time": start + i * step_s, "lat": 46 + i * 1e-5, "lon": 14 + np.sin(i / 100) / 100,
            "altitude": 300 + 10 * np.sin(i / 50), "distance": i * 5.0,
            "speed": 5.0 + np.sin(i / 7), "heart_rate": hr, "cadence": 80 + i % 10,
            "power": np.where(i % 13 == 0, np.nan, 200 + i % 50)}


def totals(start: float, elapsed: float, sport: str = "running") -> fw.Totals:
    return fw.Totals(sport=sport, start_time=start, elapsed_s=elapsed, timer_s=elapsed,
                     distance_m=elapsed * 5, avg_hr=140, max_hr=170, max_speed_mps=6.5)


GENERATED_FIT = {
    # every record after the first carries its time in the header; gaps wrap the counter
    "compressed timestamps": lambda: fw.activity(
        points(500) | {"time": T0 + np.cumsum(np.arange(500) % 31)},
        compressed_timestamps=True, sessions=[totals(T0, 7000)]),
    "chained files": lambda: fw.chain(
        fw.activity(points(300), sessions=[totals(T0, 299)]),
        fw.activity({}, file_type="settings"),
        fw.activity(points(200, start=T0 + 1000), sessions=[totals(T0 + 1000, 199)],
                    compressed_timestamps=True)),
    "sessions first": lambda: fw.activity(
        points(400), sessions_first=True,
        sessions=[totals(T0, 99, "swimming"), totals(T0 + 100, 9, "transition"),
                  totals(T0 + 110, 289, "cycling")]),
    "sessions last": lambda: fw.activity(
        points(400), sessions=[totals(T0, 199, "running"), totals(T0 + 200, 199, "running")]),
    "not an activity": lambda: fw.activity(points(10), file_type="course"),
    "no records": lambda: fw.activity({}, sessions=[totals(T0, 60)]),
    "200,000 points": lambda: fw.chain(
        fw.activity(points(200_000), sessions=[totals(T0, 199_999, "cycling")],
                    compressed_timestamps=True),
        fw.activity(points(1000, start=T0 + 300_000), sessions=[totals(T0 + 300_000, 999)])),
}


@pytest.mark.parametrize("case", GENERATED_FIT)
def test_generated_fit_files_decode_as_the_reference_decodes_them(case):
    content = GENERATED_FIT[case]()
    got = outcome(fastfit.decode, content)  # Unsupported would fail the test
    assert not differences(got, outcome(fit.decode, content))


GENERATED_GPX = {
    "heart rate": lambda: factories.gpx(points=20_000, seed=1),
    "positions only": lambda: factories.gpx(points=2_000, hr=False, times=False, seed=2),
    # a comment sends the file through ElementTree instead of the regular expressions
    "streamed": lambda: factories.gpx(points=2_000, seed=3).replace(b"<trk>", b"<!--c--><trk>"),
    # 1.0: <speed> read, extensions not
    "GPX 1.0": lambda: factories.gpx(points=500, seed=4).replace(b'version="1.1"',
                                                                   b'version="1.0"'),
}


@pytest.mark.parametrize("case", GENERATED_GPX)
def test_generated_gpx_files_decode_as_the_reference_decodes_them(case):
    content = GENERATED_GPX[case]()
    assert not differences(outcome(fastgpx.decode, content), outcome(gpx.decode, content))
