"""core.decode.tcx: TCX bytes -> Track, on small hand-written files and on TCX files made
from the corpus's FIT files (tests/tcxwriter.py)."""

from __future__ import annotations

import dataclasses
import gzip
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from core import decode, plausible, sniff, summarize
from core.decode import DecodeError, tcx
from core.derivers.track import build_track
from tests import tcxwriter
from tests.corpus import require_corpus, rows

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<TrainingCenterDatabase '
        'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
        'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">')


def point(second: int, *, lat: float = 46.0, dist: float | None = None, extra: str = "") -> str:
    when = datetime(2024, 5, 1, 6, 0, second, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    distance = f"<DistanceMeters>{dist}</DistanceMeters>" if dist is not None else ""
    return (f"<Trackpoint><Time>{when}</Time><Position><LatitudeDegrees>{lat}"
            "</LatitudeDegrees><LongitudeDegrees>14.5</LongitudeDegrees></Position>"
            f"<AltitudeMeters>300.5</AltitudeMeters>{distance}{extra}</Trackpoint>")


def lap(points: str, *, start: str = "2024-05-01T06:00:00Z", totals: str = "") -> str:
    return f'<Lap StartTime="{start}">{totals}<Track>{points}</Track></Lap>'


def document(laps: str, *, sport: str = "Running", head: str = HEAD) -> bytes:
    return (f'{head}<Activities><Activity Sport="{sport}"><Id>2024-05-01T06:00:00Z</Id>{laps}'
            "</Activity></Activities></TrainingCenterDatabase>").encode()


def test_trackpoints_give_every_column():
    sensors = ("<HeartRateBpm><Value>141</Value></HeartRateBpm><Cadence>88</Cadence>"
               "<Extensions><ns3:TPX><ns3:Speed>5.25</ns3:Speed><ns3:Watts>212</ns3:Watts>"
               "</ns3:TPX></Extensions>")
    track = tcx.decode(document(lap(point(0, dist=0.0, extra=sensors)
                                    + point(1, lat=46.00005, dist=5.5)), sport="Biking"))
    assert (track.format, track.sport, track.n, track.segment_starts) == ("tcx", "cycling", 2,
                                                                          (0,))
    assert track.time[0] == datetime(2024, 5, 1, 6, tzinfo=UTC).timestamp()
    assert track.time[1] - track.time[0] == 1.0
    assert (track.lat[1], track.lon[1], track.ele[0]) == (46.00005, 14.5, 300.5)
    assert list(track.dist) == [0.0, 5.5]
    assert (track.hr[0], track.cadence[0], track.speed[0], track.power[0]) == (141, 88, 5.25,
                                                                               212)
    assert np.isnan(track.hr[1]) and np.isnan(track.power[1])


def test_run_cadence_from_the_extension():
    extension = "<Extensions><ns3:TPX><ns3:RunCadence>86</ns3:RunCadence></ns3:TPX></Extensions>"
    track = tcx.decode(document(lap(point(0, extra=extension))))
    assert track.cadence[0] == 86 and track.sport == "running"


def test_laps_are_one_recording_and_their_totals_one_session():
    totals = ("<TotalTimeSeconds>{t}</TotalTimeSeconds><DistanceMeters>{d}</DistanceMeters>"
              "<MaximumSpeed>{v}</MaximumSpeed><AverageHeartRateBpm><Value>{a}</Value>"
              "</AverageHeartRateBpm><MaximumHeartRateBpm><Value>{m}</Value>"
              "</MaximumHeartRateBpm>")
    laps = (lap(point(0, dist=0.0) + point(10, dist=40.0),
                totals=totals.format(t=10, d=40, v=4.5, a=120, m=130))
            + lap(point(20, dist=80.0) + point(50, dist=200.0), start="2024-05-01T06:00:20Z",
                  totals=totals.format(t=30, d=160, v=5.0, a=160, m=171)))
    track = tcx.decode(document(laps))
    assert track.n == 4 and track.segment_starts == (0,)  # a lap boundary is no gap
    (session,) = track.sessions
    assert (session.timer_s, session.distance_m, session.max_speed_mps, session.max_hr) == (
        40.0, 200.0, 5.0, 171.0)
    assert session.avg_hr == pytest.approx((120 * 10 + 160 * 30) / 40)  # weighted by time
    assert session.start_time == datetime(2024, 5, 1, 6, tzinfo=UTC).timestamp()
    summary = summarize.summarize(track)
    assert (summary["distance_m"], summary["distance_source"]) == (200.0, "device")
    assert summary["elapsed_s"] == 50.0 and summary["moving_s"] == 40.0


def test_without_lap_totals_the_points_distance_counts():
    track = tcx.decode(document(lap(point(0, dist=10.0) + point(30, dist=130.0))))
    assert track.sessions == ()
    summary = summarize.summarize(track)
    assert (summary["distance_m"], summary["distance_source"]) == (120.0, "records")


def test_each_activity_is_a_segment():
    body = (HEAD + "<Activities>"
            + "".join(f'<Activity Sport="Other"><Id>x</Id>{lap(point(s) + point(s + 1))}'
                      "</Activity>" for s in (0, 30))
            + '<Activity Sport="Other"><Id>empty</Id></Activity>'  # starts no segment
            + "</Activities></TrainingCenterDatabase>")
    track = tcx.decode(body.encode())
    assert track.segment_starts == (0, 2) and track.sport is None


def test_a_course_is_not_an_activity():
    course = (HEAD + "<Courses><Course><Name>Loop</Name><Track>" + point(0) + point(1)
              + "</Track></Course></Courses></TrainingCenterDatabase>").encode()
    with pytest.raises(DecodeError) as caught:
        tcx.decode(course)
    assert caught.value.code == "NotAnActivity"


@pytest.mark.parametrize(("body", "code"), [
    (document(""), "NoPoints"),
    (document(lap(point(0)))[:-30], "CorruptFile"),
    (b"\xff\xfe<TrainingCenterDatabase>", "CorruptFile"),
])
def test_damaged_files_are_refused_with_a_reason(body, code):
    with pytest.raises(DecodeError) as caught:
        tcx.decode(body)
    assert caught.value.code == code


def test_entity_declarations_are_refused_before_parsing():
    bomb = ('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>')
    with pytest.raises(DecodeError) as caught:
        tcx.decode(document(lap(point(0, extra="<Cadence>&b;</Cadence>")), head=bomb + HEAD))
    assert caught.value.code == "UnsafeXml"
    # Through the way every upload is decoded, gzipped too.
    with pytest.raises(DecodeError, match="DOCTYPE"):
        decode.decode(gzip.decompress(gzip.compress(document(lap(point(0)), head=bomb
                                                             + HEAD))), sniff.TCX)


def test_a_point_with_huge_extensions_is_refused_not_read():
    flood = "<Extensions>" + "<x/>" * (tcx.MAX_POINT_ELEMENTS + 1) + "</Extensions>"
    with pytest.raises(DecodeError, match="trackpoint holds more than") as caught:
        tcx.decode(document(lap(point(0) + point(1, extra=flood))))
    assert caught.value.code == "CorruptFile"
    # Just under the bound is read: the bound refuses floods, not rich points.
    fine = "<Extensions>" + "<x/>" * (tcx.MAX_POINT_ELEMENTS - 20) + "</Extensions>"
    assert tcx.decode(document(lap(point(0, extra=fine)))).n == 1


def test_elements_outside_points_are_bounded_too():
    flood = "<Notes>" + "<x/>" * (tcx.MAX_OTHER_ELEMENTS + 1) + "</Notes>"
    with pytest.raises(DecodeError, match="between two trackpoints"):
        tcx.decode(document(lap(point(0)) + flood))


# --- TCX made from the corpus's FIT files -----------------------------------------------

def _fit_tracks():
    folder = require_corpus()
    for row in rows(fmt="fit"):
        try:
            yield row["file"], build_track(Path(folder, row["file"]).read_bytes())
        except Exception:  # noqa: BLE001 - the corpus tests judge the FIT decoder
            continue


@pytest.mark.corpus
def test_tcx_made_from_corpus_fit_files_keeps_distance_and_elapsed_time():
    """Each FIT with points, as Garmin Connect would export it to TCX: the distance within
    2 % and the elapsed time within 1 s of the FIT's. TCX has no elapsed-time field, so
    the FIT's own is compared as its points give it (its sessions left out); with lap
    totals (timer time, distance: what Garmin writes) the distance is the device's."""
    checked = 0
    for name, fit_track in _fit_tracks():
        if not fit_track.has("time"):
            continue
        from_points = summarize.summarize(dataclasses.replace(fit_track, sessions=()))
        for lap_totals in (False, True):
            made = tcxwriter.from_track(fit_track, lap_totals=lap_totals)
            assert sniff.detect(made) == sniff.TCX
            summary = summarize.summarize(plausible.clean(decode.decode(made, sniff.TCX)))
            expected = (summarize.summarize(fit_track) if lap_totals and fit_track.sessions
                        else from_points)
            where = f"{name} (lap totals: {lap_totals})"
            if expected["distance_m"] is None:
                assert summary["distance_m"] is None, where
            else:
                assert summary["distance_m"] == pytest.approx(
                    expected["distance_m"], rel=0.02, abs=1.0), where
            assert summary["elapsed_s"] == pytest.approx(from_points["elapsed_s"], abs=1.0), \
                where
            assert summary["point_count"] == fit_track.n, where
        checked += 1
    assert checked >= 40  # most of the corpus's FIT files have timed points


def test_each_lap_keeps_its_own_totals():
    totals = ("<TotalTimeSeconds>{t}</TotalTimeSeconds><DistanceMeters>{d}</DistanceMeters>"
              "<AverageHeartRateBpm><Value>{a}</Value></AverageHeartRateBpm>")
    laps = (lap(point(0, dist=0.0) + point(10, dist=40.0), totals=totals.format(t=10, d=40, a=120))
            + lap(point(20, dist=80.0) + point(50, dist=200.0), start="2024-05-01T06:00:20Z",
                  totals=totals.format(t=30, d=160, a=160)))
    track = tcx.decode(document(laps))
    assert [(lap.timer_s, lap.distance_m, lap.avg_hr) for lap in track.laps] == [
        (10.0, 40.0, 120.0), (30.0, 160.0, 160.0)]
    assert track.laps[1].start_time == datetime(2024, 5, 1, 6, 0, 20, tzinfo=UTC).timestamp()
    assert tcx.decode(document(lap(point(0) + point(1)))).laps == ()  # no totals, no laps
