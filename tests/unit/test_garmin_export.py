"""core.garmin_export: Garmin Connect's summarizedActivities JSON, read as a stream, and
the ids in its uploaded files' names; core.fitpeek's time a FIT file was made."""

import io
import json

import pytest

from core import fitpeek, garmin_export
from tests import corpus


def listing(activities: list, *, wrapped: bool = True) -> bytes:
    body = [{"summarizedActivitiesExport": activities}] if wrapped else activities
    return json.dumps(body, ensure_ascii=False).encode()


def read(data: bytes, name: str = "x_0_summarizedActivities.json") -> dict:
    return garmin_export.entries(io.BytesIO(data).read, member_name=name)


def test_activities_give_names_sports_descriptions_and_times():
    found = read(listing([
        {"activityId": 11, "name": "Tempo ", "activityType": "treadmill_running",
         "startTimeGmt": 1700000000000.0, "duration": 1800000.0, "description": "Hot. ☀",
         "splits": [{"a": [1, 2, {"b": "]}"}]}]},
        {"activityId": "12", "name": "Commute", "activityType": {"typeKey": "road_biking"}},
        {"activityId": 13, "name": "Typed in", "manualActivity": True},
        {"activityId": 14, "activityType": "underwater_hockey"},
        {"name": "no id"}, {"activityId": True}, {"activityId": "12a"},
    ]))
    assert set(found) == {"11", "12", "14"}
    tempo = found["11"]
    assert (tempo.name, tempo.sport, tempo.description, tempo.started_at,
            tempo.duration_s) == ("Tempo", "running", "Hot. ☀", 1700000000.0, 1800.0)
    assert tempo.file_name == "x_0_summarizedActivities.json#11"
    assert found["12"].sport == "cycling" and found["12"].started_at is None
    assert found["14"].sport == ""  # a type Cairn has no sport for: the file's stays


def test_a_plain_list_of_activities_reads_as_well():
    found = read(listing([{"activityId": 5, "name": "A"}], wrapped=False))
    assert found["5"].name == "A"


def test_long_lists_are_read_an_activity_at_a_time_across_chunks():
    activities = [{"activityId": 1000 + i, "name": f"Run {i}", "activityType": "running",
                   "laps": ["x" * 50] * 40} for i in range(2000)]
    data = listing(activities)
    assert len(data) > 40 * garmin_export._CHUNK
    reads = []

    def small_reads(size: int) -> bytes:
        reads.append(size)
        return stream.read(size)

    stream = io.BytesIO(data)
    found = garmin_export.entries(small_reads, member_name="l.json")
    assert len(found) == 2000 and found["2999"].name == "Run 1999"
    assert max(reads) == garmin_export._CHUNK  # never the whole list at once


def test_a_broken_or_oversized_list_keeps_what_came_before(monkeypatch):
    data = listing([{"activityId": i, "name": str(i)} for i in range(1, 400)])
    half = read(data[: len(data) // 2])
    assert "1" in half and "399" not in half and len(half) > 100
    assert read(b"") == {} and read(b"\xff\xfe garbage") == {} and read(b"{}") == {}
    monkeypatch.setattr(garmin_export, "MAX_BYTES", 2 * garmin_export._CHUNK)
    big = listing([{"activityId": i, "name": "n" * 500} for i in range(1, 2000)])
    found = read(big)
    assert 0 < len(found) < 1999  # stopped at the limit, the start kept
    monkeypatch.setattr(garmin_export, "MAX_BYTES", 256 * 2**20)
    monkeypatch.setattr(garmin_export, "MAX_ACTIVITY_BYTES", garmin_export._CHUNK)
    assert read(listing([{"activityId": 1}, {"activityId": 2, "x": "y" * 300_000},
                         {"activityId": 3}])).keys() == {"1"}


@pytest.mark.parametrize(("name", "expected"), [
    ("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip/"
     "a_b@example.org_12345678901.fit", "12345678901"),
    ("a_b@example.org_12345678.GPX", "12345678"),
    ("12345678_ACTIVITY.fit", "12345678"),
    ("12345678.tcx.gz", "12345678"),
    ("upload_from_phone.fit", ""),
    ("a_b@example.org_12345678.json", ""),
    ("2013-02-06-12-11-14.fit", ""),
])
def test_the_activity_id_in_an_uploaded_files_name(name, expected):
    assert garmin_export.activity_id(name) == expected


def test_the_list_is_found_by_its_name():
    assert garmin_export.is_list(
        "DI_CONNECT/DI-Connect-Fitness/a_b@example.org_0_summarizedActivities.json")
    assert garmin_export.is_list("x_1_summarizedActivities.json")
    assert not garmin_export.is_list("x_0_summarizedActivities.json.gz")
    assert not garmin_export.is_list("activities.csv")


def test_a_file_matches_the_activity_whose_span_holds_its_creation_time():
    found = read(listing([
        {"activityId": 1, "startTimeGmt": 1_000_000_000, "duration": 3_600_000},
        {"activityId": 2, "startTimeGmt": 1_000_600_000, "duration": 600_000},
        {"activityId": 3},
    ]))
    assert garmin_export.by_time(found, 1_000_000.0).activity_id == "1"
    assert garmin_export.by_time(found, 1_000_590.0).activity_id == "2"  # nearest start
    assert garmin_export.by_time(found, 1_003_800.0).activity_id == "1"  # made at the end
    assert garmin_export.by_time(found, 1_000_000.0 + 3600 + 301) is None
    assert garmin_export.by_time(found, 999_000.0) is None


def test_fit_files_say_when_they_were_made_as_the_manifest_does():
    from datetime import datetime

    folder = corpus.require_corpus()
    rows = [r for r in corpus.rows("fit", "fit") if r["time_created"]
            and "|" not in r["time_created"]]
    assert len(rows) > 20
    for row in rows:
        made = fitpeek.time_created((folder / row["file"]).read_bytes())
        if row["time_created"].isdigit():  # counted from power-on: no date
            assert made is None, row["file"]
            continue
        expected = datetime.fromisoformat(row["time_created"]).timestamp()
        assert made == expected, row["file"]
    assert fitpeek.time_created(b"not fit") is None
