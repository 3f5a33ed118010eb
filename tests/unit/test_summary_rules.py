"""Rules every summary keeps, whatever the file (issue 11, section 3; issue 12's absurd
totals): over the whole corpus, and one small track of our own per rule."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import geo, parts, plausible
from core import track as tracks
from core.derivers import charts, track
from core.errors import DeriveError
from core.summarize import summarize
from core.track import Session, Track
from tests.corpus import require_corpus, rows
from tests.unit.derivers.tracks import ONE_DEGREE_M, T0, northward

DAY = 86400.0


def rule_breaks(summary: dict, chart: dict, *, timed: bool) -> list[str]:
    """Every rule `summary` (and the charts beside it) breaks, as readable lines."""
    broken = []
    moving, elapsed = summary["moving_s"], summary["elapsed_s"]
    if moving is not None and elapsed is not None and moving > elapsed:
        broken.append(f"moving {moving} s > elapsed {elapsed} s")
    average, top = summary["avg_speed_mps"], summary["max_speed_mps"]
    if average is not None and top is not None and average > top:
        broken.append(f"average speed {average} > top speed {top}")
    if top is not None and top > 100:
        broken.append(f"top speed {top} m/s")
    if not timed:
        timings = {k: summary[k] for k in ("start_time", "elapsed_s", "moving_s",
                                           "avg_speed_mps", "max_speed_mps", "parts")}
        if any(v is not None for v in timings.values()):
            broken.append(f"times without timestamps: {timings}")
        if chart["by_time"] is not None:
            broken.append("a time axis without timestamps")
    for axis in ("by_distance", "by_time"):
        profile = chart[axis] or {}
        peaks = [("speed_mps", top, 0.0051, lambda v: v), ("hr_bpm", summary["max_hr_bpm"], 0,
                                                             lambda v: v)]
        if top:  # the fastest pace is the top speed's (to the second the chart keeps)
            peaks.append(("pace_s_per_km", 1000 / top, 0.51, lambda v: -v))
        for name, expected, tolerance, sign in peaks:
            values = [v for v in profile.get(name, []) if v is not None]
            if not values:
                continue
            drawn = sign(max(sign(v) for v in values))
            if expected is None or abs(drawn - expected) > tolerance:
                broken.append(f"{axis} {name} peaks at {drawn}, summary says {expected}")
    return broken


@pytest.fixture(scope="module")
def corpus_results() -> dict[str, tuple[Track, dict, dict]]:
    """MANIFEST file -> (stored track, summary, charts) for every file that has a summary,
    each derived as the reconciler does: from the track deriver's stored bytes."""
    folder = require_corpus()
    found = {}
    for row in rows():
        try:
            stored = track.TRACK.codec.loads(track.TRACK.codec.dumps(
                track.build_track(Path(folder, row["file"]).read_bytes())))
            found[row["file"]] = (stored, summarize(stored), charts.build_charts(stored))
        except DeriveError:
            continue  # not an activity, or unreadable: tests/unit/test_corpus.py's business
    return found


@pytest.mark.corpus
def test_every_corpus_summary_keeps_every_rule(corpus_results):
    broken = {name: breaks for name, (stored, summary, chart) in corpus_results.items()
              if (breaks := rule_breaks(summary, chart, timed=_is_timed(stored)))}
    assert len(corpus_results) >= 85
    assert broken == {}


def _is_timed(stored: Track) -> bool:
    return stored.has("time") or any(s.elapsed_s is not None for s in stored.sessions)


@pytest.mark.corpus
@pytest.mark.parametrize(("name", "expected"), [
    # 14 points: the device's distance over its timer beat every speed the points held.
    ("fit/fitparse__Activity.fit", {"parts": 1}),
    # 5 of 296 points keep a time: the average is the timed steps', not 4.6 km over 57 s.
    ("gpx/gpxpy__cerknicko-without-times.gpx", {"parts": 1}),
    # Three hikes, weeks apart: three parts of a few hours each, not 140 days.
    ("gpx/togeojson__blue_hills.gpx", {"parts": 3}),
    # Two timed tracks two years apart (and an untimed one): minutes, not 2.3 years.
    ("gpx/togeojson__osm.gpx", {"parts": 2}),
])
def test_the_offenders_the_issue_names_now_keep_the_rules(corpus_results, name, expected):
    stored, summary, chart = corpus_results[name]
    assert rule_breaks(summary, chart, timed=True) == []
    assert {k: summary[k] for k in expected} == expected
    assert summary["elapsed_s"] < DAY
    if not stored.sessions:  # a FIT file keeps its device's elapsed time
        spans = parts.spans(stored.time)
        assert summary["elapsed_s"] == pytest.approx(sum(b - a for a, b in spans), abs=0.05)


def test_average_speed_is_at_most_the_top_speed_when_the_device_distance_disagrees():
    # The device says 2 km in 100 s of timer; its points held 11 m/s at most.
    session = Session(start_time=T0, elapsed_s=100.0, timer_s=100.0, distance_m=2000.0)
    summary = summarize(Track(format="fit", columns=northward(101).columns,
                              sessions=(session,)))
    assert summary["max_speed_mps"] == pytest.approx(11.1, rel=0.01)
    assert summary["avg_speed_mps"] <= summary["max_speed_mps"]


def test_a_track_timed_in_part_averages_the_timed_steps_only():
    # 1 km of timed points at 5 m/s, then 9 km more whose times were stripped.
    timed = northward(201, speed_mps=5.0)
    untimed = northward(1001, speed_mps=10.0, lat0=float(timed.lat[-1]) + 1e-4)
    columns = {k: np.r_[timed.columns[k], untimed.columns[k]] for k in ("lat", "lon", "time")}
    columns["time"][201:] = np.nan
    summary = summarize(Track(format="gpx", columns=columns))
    assert summary["elapsed_s"] == 200.0
    assert summary["avg_speed_mps"] == pytest.approx(5.0, rel=0.02)
    assert summary["avg_speed_mps"] <= summary["max_speed_mps"]


def test_a_glitch_is_left_out_of_the_top_speed_and_the_chart():
    # The device's speed column jumps to 90 m/s for ten samples of a 5 m/s ride: longer
    # than a chart bin (5 s), so a mean would draw it.
    speed = np.full(2001, 5.0)
    speed[1000:1010] = 90.0
    summary, chart = _derived(northward(2001, speed_mps=5.0, speed=speed))
    assert summary["max_speed_mps"] == pytest.approx(5.0)
    for axis in ("by_distance", "by_time"):
        assert max(chart[axis]["speed_mps"]) <= geo.MAX_SPEED_MPS


def test_a_file_without_timestamps_has_no_times_speeds_or_time_axis():
    # A device's session with a top speed but no times, and points without times.
    moving = northward(101, speed=np.full(101, 4.0))
    moving.time[:] = np.nan
    track_ = Track(format="fit", columns=moving.columns,
                   sessions=(Session(distance_m=1000.0, max_speed_mps=6.0),))
    summary, chart = _derived(track_)
    assert rule_breaks(summary, chart, timed=False) == []
    assert summary["distance_m"] == 1000.0
    assert chart["by_distance"] is not None and "speed_mps" not in chart["by_distance"]


def test_segments_recorded_days_apart_are_parts_whose_spans_add_up():
    # Two hours on one day, one hour 30 days later: three hours in two parts.
    first, second = northward(7201), northward(3601)
    columns = {k: np.r_[first.columns[k], second.columns[k]] for k in ("lat", "lon", "time")}
    columns["time"][7201:] += 30 * DAY
    summary = summarize(Track(format="gpx", columns=columns, segment_starts=(0, 7201)))
    assert (summary["elapsed_s"], summary["parts"]) == (7200.0 + 3600.0, 2)
    assert summary["start_time"] == "2024-05-01T06:00:00Z"


def test_a_pause_shorter_than_a_part_gap_stays_inside_the_part():
    # Lunch: two hours stopped within one outing is elapsed time, as a watch counts it.
    columns = northward(121).columns
    columns["time"][60:] += 2 * 3600
    summary = summarize(Track(format="gpx", columns=columns))
    assert (summary["elapsed_s"], summary["parts"]) == (120.0 + 7200.0, 1)


def test_a_point_stamped_years_away_adds_nothing_to_the_elapsed_time():
    columns = northward(101).columns
    columns["time"][50] += 5 * 365 * DAY  # a clock that jumped once
    summary = summarize(Track(format="gpx", columns=columns))
    # Two halves of 49 s: the two steps to and from the lone point are lost, not 5 years added.
    assert summary["elapsed_s"] == 98.0
    assert summary["parts"] == 2  # the lone point is no part: the two halves are


def test_device_sessions_days_apart_are_parts_too():
    sessions = (Session(start_time=T0, elapsed_s=3600.0, timer_s=3000.0),
                Session(start_time=T0 + 3 * DAY, elapsed_s=1800.0, timer_s=1700.0))
    summary = summarize(Track(format="fit", columns=northward(11).columns, sessions=sessions))
    assert (summary["elapsed_s"], summary["moving_s"], summary["parts"]) == (5400.0, 4700.0, 2)


def test_the_charts_peaks_are_the_summarys_maxima():
    # Three hours at 5 m/s with a sprint of 12 m/s for 20 s and a heart rate peak of
    # 188: a chart bin lasts 27 s, so a mean alone would draw both peaks lower.
    n = 3 * 3600 + 1
    speed = np.full(n, 5.0)
    speed[5000:5020] = 12.0
    hr = np.full(n, 140.0)
    hr[7000] = 188.0
    summary, chart = _derived(northward(n, speed=speed, hr=hr))
    assert summary["max_speed_mps"] == pytest.approx(12.0)
    assert summary["max_hr_bpm"] == 188
    assert rule_breaks(summary, chart, timed=True) == []


def test_a_pace_chart_peaks_at_the_summarys_top_speed():
    n = 3601
    speed = np.full(n, 3.0)
    speed[1000:1010] = 6.0
    summary, chart = _derived(northward(n, speed=speed, sport="running"))
    assert chart["speed_kind"] == "pace"
    assert min(v for v in chart["by_time"]["pace_s_per_km"] if v is not None) == \
        round(1000 / summary["max_speed_mps"])


def _derived(track_: Track) -> tuple[dict, dict]:
    return summarize(track_), charts.build_charts(track_)


# Issue 12: values no recording holds, in a GPX as an attacker (or a broken exporter)
# writes them.

def _gpx(rows_: list[str]) -> bytes:
    return ('<?xml version="1.0"?><gpx version="1.1" creator="t" '
            'xmlns="http://www.topografix.com/GPX/1/1" '
            'xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v1">'
            f"<trk><trkseg>{''.join(rows_)}</trkseg></trk></gpx>").encode()


def _point(i: int, *, ele: str, hr: str, time: str) -> str:
    return (f'<trkpt lat="{46 + i * 1e-4:.4f}" lon="14"><ele>{ele}</ele><time>{time}</time>'
            "<extensions><gpxtpx:TrackPointExtension>"
            f"<gpxtpx:hr>{hr}</gpxtpx:hr></gpxtpx:TrackPointExtension></extensions></trkpt>")


def extreme_gpx() -> bytes:
    """60 points a second apart in 2024, with elevations of ±1e308 m, a heart rate of
    1e308 and points stamped in the years 0001 and 9999 among them."""
    rows_ = []
    for i in range(60):
        ele = ("1e308", "-1e308")[i % 2] if 20 <= i < 30 else f"{300 + i % 7}"
        hr = "1e308" if i == 40 else "130"
        time = {5: "0001-01-01T00:00:00Z", 45: "9999-12-31T23:59:59Z"}.get(
            i, f"2024-05-01T06:00:{i:02d}Z")
        rows_.append(_point(i, ele=ele, hr=hr, time=time))
    return _gpx(rows_)


def test_extreme_values_give_no_absurd_totals():
    built = track.build_track(extreme_gpx())
    stored = tracks.decode(tracks.encode(built))
    summary, chart = _derived(stored)
    assert summary["elapsed_s"] == 59.0
    assert summary["start_time"] == "2024-05-01T06:00:00Z"
    assert 0 < summary["ascent_m"] < 100 and 0 <= summary["descent_m"] < 100
    assert summary["max_hr_bpm"] == 130 and summary["avg_hr_bpm"] == 130.0
    assert summary["max_speed_mps"] < 20
    assert rule_breaks(summary, chart, timed=True) == []
    # The stored columns hold what was kept, exactly: nothing overflowed on the way.
    assert np.nanmax(stored.ele) <= 9000 and np.nanmin(stored.ele) >= -500
    assert np.nanmax(stored.hr) == 130.0


def test_a_track_of_nothing_but_absurd_values_has_no_totals_of_them():
    rows_ = [_point(i, ele="1e308", hr="1e308", time="0001-01-01T00:00:00Z")
             for i in range(10)]
    summary = summarize(track.build_track(_gpx(rows_)))
    assert (summary["ascent_m"], summary["max_hr_bpm"], summary["elapsed_s"]) == \
        (None, None, None)
    assert summary["distance_m"] == pytest.approx(9 * 1e-4 * ONE_DEGREE_M, rel=1e-3)


def test_a_devices_absurd_session_totals_are_not_taken():
    session = Session(start_time=T0, elapsed_s=2.5e11, timer_s=-5.0, distance_m=1e308,
                      avg_hr=140.0, max_hr=1e308, max_speed_mps=float("inf"))
    summary = summarize(plausible.clean(Track(format="fit", columns=northward(101).columns,
                                              sessions=(session,))))
    # What the points say instead: 100 s at 11.1 m/s.
    assert (summary["elapsed_s"], summary["moving_s"]) == (100.0, 100.0)
    assert summary["distance_source"] == "gps"
    assert summary["max_speed_mps"] == pytest.approx(11.1, rel=0.01)
    assert summary["avg_hr_bpm"] is None and summary["max_hr_bpm"] is None
