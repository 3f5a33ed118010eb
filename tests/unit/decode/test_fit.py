"""core.decode.fit: FIT bytes -> Track, on files written by tests/fitwriter.py."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import fitparse
import numpy as np
import pytest

from core.decode import DecodeError, fit
from tests import fitwriter as fw

FILES = Path(__file__).resolve().parents[2] / "files"
T0 = 1714543200.0  # 2024-05-01T06:00:00Z


def points(n: int, *, start: float = T0, step_s: float = 1.0, **columns) -> dict:
    """n records heading north at about 11 m/s, plus any extra columns given."""
    base = {"time": start + np.arange(n) * step_s, "lat": 46 + np.arange(n) * 1e-4,
            "lon": np.full(n, 14.0)}
    return base | {name: np.broadcast_to(value, n) for name, value in columns.items()}


def test_records_become_columns():
    data = fw.activity(points(3, altitude=[300.0, 301.2, 302.4], distance=[0.0, 11.1, 22.2],
                              speed=2.5, heart_rate=141, cadence=88, power=[200, 0, 250]))
    track = fit.decode(data)
    assert track.format == "fit"
    assert track.time.tolist() == [T0, T0 + 1, T0 + 2]
    np.testing.assert_allclose(track.lat, [46.0, 46.0001, 46.0002], atol=1e-7)
    np.testing.assert_allclose(track.lon, 14.0, atol=1e-7)
    np.testing.assert_allclose(track.ele, [300.0, 301.2, 302.4], atol=0.2)  # 1/5 m steps
    np.testing.assert_allclose(track.dist, [0.0, 11.1, 22.2])
    np.testing.assert_allclose(track.speed, 2.5)
    assert track.hr.tolist() == [141, 141, 141]
    assert track.cadence.tolist() == [88, 88, 88]
    assert track.power.tolist() == [200, 0, 250]


def test_missing_record_fields_become_nan():
    data = fw.activity(points(3, heart_rate=[140, np.nan, 150]))
    track = fit.decode(data)
    assert np.isnan(track.hr[1]) and track.hr[2] == 150
    assert not track.has("power")


def test_out_of_range_position_becomes_missing():
    data = fw.activity({"time": [T0, T0 + 1, T0 + 2], "lat": [46.0, 95.0, 46.0002],
                        "lon": [14.0, 14.0, 14.0]})
    track = fit.decode(data)
    assert np.isnan(track.lat[1]) and np.isnan(track.lon[1])
    assert np.isfinite(track.lat[[0, 2]]).all()


def test_session_totals_become_a_session():
    totals = fw.Totals(sport="cycling", sub_sport="road", start_time=T0, elapsed_s=3600.5,
                       timer_s=3500.25, distance_m=30123.45, ascent_m=412, descent_m=398,
                       avg_hr=141, max_hr=172, max_speed_mps=17.25)
    track = fit.decode(fw.activity(points(3), sessions=[totals]))
    (session,) = track.sessions
    assert (session.sport, session.sub_sport) == ("cycling", "road")
    assert session.start_time == T0
    assert (session.elapsed_s, session.timer_s) == (3600.5, 3500.25)
    assert session.distance_m == pytest.approx(30123.45)
    assert (session.ascent_m, session.descent_m) == (412, 398)
    assert (session.avg_hr, session.max_hr) == (141, 172)
    assert session.max_speed_mps == pytest.approx(17.25)
    assert (track.sport, track.sub_sport) == ("cycling", "road")


def test_each_session_starts_a_segment():
    sessions = [fw.Totals(sport="running", start_time=T0, elapsed_s=4),
                fw.Totals(sport="running", start_time=T0 + 5, elapsed_s=4)]
    track = fit.decode(fw.activity(points(10), sessions=sessions))
    assert track.segment_starts == (0, 5)


def test_sessions_written_before_the_records_still_start_segments():
    sessions = [fw.Totals(sport="swimming", start_time=T0, elapsed_s=3),
                fw.Totals(sport="transition", start_time=T0 + 4, elapsed_s=1),
                fw.Totals(sport="cycling", start_time=T0 + 6, elapsed_s=3)]
    track = fit.decode(fw.activity(points(10), sessions=sessions, sessions_first=True))
    assert track.segment_starts == (0, 4, 6)


def test_chained_files_start_segments():
    first = fw.activity(points(4), sessions=[fw.Totals(start_time=T0, elapsed_s=3)])
    second = fw.activity(points(3, start=T0 + 100),
                         sessions=[fw.Totals(start_time=T0 + 100, elapsed_s=2)])
    track = fit.decode(fw.chain(first, second))
    assert track.n == 7
    assert track.segment_starts == (0, 4)
    assert len(track.sessions) == 2


def test_different_sports_make_a_multisport_track():
    sessions = [fw.Totals(sport="swimming", sub_sport="open_water", start_time=T0, elapsed_s=3),
                fw.Totals(sport="transition", start_time=T0 + 4, elapsed_s=1),
                fw.Totals(sport="cycling", start_time=T0 + 6, elapsed_s=3)]
    track = fit.decode(fw.activity(points(10), sessions=sessions))
    assert (track.sport, track.sub_sport) == ("multisport", None)


def test_transitions_do_not_make_a_multisport_track():
    sessions = [fw.Totals(sport="running", sub_sport="trail", start_time=T0, elapsed_s=3),
                fw.Totals(sport="transition", start_time=T0 + 4, elapsed_s=1),
                fw.Totals(sport="running", sub_sport="trail", start_time=T0 + 6, elapsed_s=3)]
    track = fit.decode(fw.activity(points(10), sessions=sessions))
    assert (track.sport, track.sub_sport) == ("running", "trail")


def test_compressed_timestamps_are_expanded():
    times = T0 + np.array([0, 3, 10, 31, 40, 70, 71])  # offsets wrap the 5-bit counter
    data = fw.activity(points(7) | {"time": times}, compressed_timestamps=True)
    assert fit.decode(data).time.tolist() == times.tolist()


def test_pool_swim_without_gps_keeps_device_distance():
    data = fw.activity({"time": T0 + np.arange(4) * 30.0, "distance": [0, 25, 50, 75]},
                       sessions=[fw.Totals(sport="swimming", sub_sport="lap_swimming",
                                           start_time=T0, elapsed_s=90, distance_m=75)])
    track = fit.decode(data)
    assert not track.has("lat")
    assert track.dist.tolist() == [0, 25, 50, 75]


@pytest.mark.parametrize(("file_type", "sentence"), [
    ("course", "This FIT file is a course, not a recorded activity."),
    ("settings", "This FIT file is a settings file, not a recorded activity."),
    ("monitoring_b", "This FIT file is a daily monitoring file, not a recorded activity."),
])
def test_non_activity_file_is_refused(file_type, sentence):
    with pytest.raises(DecodeError) as caught:
        fit.decode(fw.activity(points(3), file_type=file_type))
    assert caught.value.code == "NotAnActivity"
    assert str(caught.value) == sentence


def test_activity_with_settings_chained_after_it_is_an_activity():
    data = fw.chain(fw.activity(points(3)), fw.activity({}, file_type="settings"))
    assert fit.decode(data).n == 3


def test_activity_without_records_has_no_points():
    with pytest.raises(DecodeError) as caught:
        fit.decode(fw.activity({}, sessions=[fw.Totals(start_time=T0, elapsed_s=60)]))
    assert caught.value.code == "NoPoints"


def test_truncated_file_is_corrupt():
    with pytest.raises(DecodeError) as caught:
        fit.decode((FILES / "truncated.fit").read_bytes())
    assert caught.value.code == "CorruptFile"
    assert str(caught.value).startswith("This FIT file is truncated")


def test_empty_bytes_are_corrupt():
    with pytest.raises(DecodeError) as caught:
        fit.decode(b"")
    assert caught.value.code == "CorruptFile"


def test_bad_header_is_corrupt():
    data = bytearray((FILES / "tiny_run.fit").read_bytes())
    data[8:12] = b"JUNK"
    with pytest.raises(DecodeError) as caught:
        fit.decode(bytes(data))
    assert caught.value.code == "CorruptFile"


def test_bad_file_crc_alone_is_read():
    data = bytearray((FILES / "tiny_run.fit").read_bytes())
    data[-1] ^= 0xFF
    with pytest.raises(fitparse.utils.FitCRCError):  # the reference refuses it...
        list(fitparse.FitFile(bytes(data)).get_messages())
    assert fit.decode(bytes(data)).n == 10  # ...Cairn reads it (see core/decode/fit.py)


def test_field_too_short_for_its_type_is_skipped_not_fatal():
    # A COROS firmware declares a uint32 field one byte long; fitparse gives up on the file.
    event = struct.pack("<BBBHB", 0x40 | 4, 0, 0, 21, 2) + struct.pack("<6B", 253, 4, 0x86,
                                                                          3, 1, 0x86)
    event += struct.pack("<BIB", 4, int(T0) - fw.FIT_EPOCH, 7)
    body = fw.messages(0, 0, {"type": fw.FILE_ID_FIELDS["type"]}, {"type": [4]}) + event
    body += fw.messages(1, 20, {"time": fw.RECORD_FIELDS["time"]}, {"time": [T0, T0 + 1]})
    data = fw.wrap(body)
    with pytest.raises(fitparse.utils.FitParseError):
        list(fitparse.FitFile(data).get_messages())
    assert fit.decode(data).time.tolist() == [T0, T0 + 1]


def test_long_recording_keeps_every_point():
    n = 20_000
    track = fit.decode(fw.activity(points(n, distance=np.arange(n) * 11.1)))
    assert track.n == n
    assert track.dist[-1] == pytest.approx((n - 1) * 11.1)


def test_damaged_bytes_give_a_track_or_a_decode_error_only():
    original = (FILES / "tiny_run.fit").read_bytes()
    rng = random.Random(20240501)
    for _ in range(300):
        data = bytearray(original)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            fit.decode(bytes(data))
        except DecodeError as error:
            assert error.code in {"CorruptFile", "NotAnActivity", "NoPoints"}


@pytest.mark.corpus
def test_lap_messages_become_the_tracks_laps():
    from core.decode import fastfit
    from tests.corpus import require_corpus

    content = (require_corpus() / "fit/fitparse__activity-small-fenix2-run.fit").read_bytes()
    for decode in (fit.decode, fastfit.decode):
        track = decode(content)
        assert len(track.laps) == 4
        (session,) = track.sessions
        assert sum(lap.distance_m for lap in track.laps) == pytest.approx(session.distance_m)
        starts = [lap.start_time for lap in track.laps]
        assert starts == sorted(starts)
