"""tests/fitwriter.py writes files that the reference decoder, fitparse, reads as meant."""

from __future__ import annotations

from datetime import UTC, datetime

import fitparse
import numpy as np

from tests import fitwriter as fw

T0 = 1714543200.0  # 2024-05-01T06:00:00Z


def epoch(naive_utc: datetime) -> float:
    return naive_utc.replace(tzinfo=UTC).timestamp()  # fitparse gives naive UTC datetimes


def read(data: bytes) -> list:
    """Every data message, through fitparse with its CRC checks on."""
    return list(fitparse.FitFile(data, check_crc=True).get_messages())


def test_messages_come_in_file_order():
    data = fw.activity({"time": T0 + np.arange(3.0)}, sessions=[fw.Totals(start_time=T0)])
    assert [m.name for m in read(data)] == ["file_id", "record", "record", "record", "session"]


def test_record_values_read_back():
    data = fw.activity({"time": [T0], "lat": [46.5], "lon": [-14.25], "altitude": [1234.4],
                        "distance": [5432.1], "speed": [3.456], "heart_rate": [150],
                        "cadence": [90], "power": [321]})
    (record,) = [m for m in read(data) if m.name == "record"]
    values = record.get_values()
    assert epoch(values["timestamp"]) == T0
    assert abs(values["position_lat"] * 180 / 2**31 - 46.5) < 1e-7
    assert abs(values["position_long"] * 180 / 2**31 + 14.25) < 1e-7
    assert abs(values["altitude"] - 1234.4) <= 0.1
    assert (values["distance"], values["speed"]) == (5432.1, 3.456)
    assert (values["heart_rate"], values["cadence"], values["power"]) == (150, 90, 321)


def test_missing_values_are_written_invalid():
    data = fw.activity({"time": [T0, T0 + 1], "heart_rate": [np.nan, 120]})
    records = [m for m in read(data) if m.name == "record"]
    assert [r.get_value("heart_rate") for r in records] == [None, 120]


def test_session_values_read_back():
    totals = fw.Totals(sport="cycling", sub_sport="road", start_time=T0, elapsed_s=3600.5,
                       distance_m=30000.25, avg_hr=140, max_hr=170, ascent_m=300)
    (session,) = [m for m in read(fw.activity({}, sessions=[totals])) if m.name == "session"]
    values = session.get_values()
    assert (values["sport"], values["sub_sport"]) == ("cycling", "road")
    assert (values["total_elapsed_time"], values["total_distance"]) == (3600.5, 30000.25)
    assert (values["avg_heart_rate"], values["max_heart_rate"]) == (140, 170)
    assert values["total_ascent"] == 300


def test_compressed_timestamps_read_back():
    times = T0 + np.array([0.0, 5, 31, 40])
    records = [m for m in read(fw.activity({"time": times}, compressed_timestamps=True))
               if m.name == "record"]
    assert [epoch(r.get_value("timestamp")) for r in records] == times.tolist()


def test_chained_files_each_pass_their_crc():
    data = fw.chain(fw.activity({"time": [T0]}), fw.activity({"time": [T0 + 10]}))
    assert [m.name for m in read(data)] == ["file_id", "record", "file_id", "record"]


def test_crc_is_crc16_arc():
    assert fw.crc16(b"123456789") == 0xBB3D  # the CRC-16/ARC check value
