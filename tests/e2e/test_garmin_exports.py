"""Garmin Connect account exports: the activity files in UploadedFiles_0-_Part1.zip nested
in the export, the summarizedActivities JSON's names, sports and descriptions applied to
them, listed activities the export lacks reported; hostile nested archives refused with
a sentence and nothing else lost; a crash mid-expansion resumed without duplicates.

The activity files are corpus FIT files read at test time (never copied here)."""

import json
from datetime import datetime, timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from freezegun import freeze_time

from activities.expansion import expand as expander
from activities.expansion import kind as archive_kind
from activities.models import Activity, Archive, ArchiveMember, Upload
from reconciler import sweep
from tests import corpus, factories, zipcraft
from tests.conftest import NOW
from work import leases as work_leases

pytestmark = [pytest.mark.django_db, pytest.mark.storage]

EMAIL = "a_b@example.org"
LIST = f"DI_CONNECT/DI-Connect-Fitness/{EMAIL}_0_summarizedActivities.json"
PART = "DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip"
RUN = "fit/fitparse__2013-02-06-12-11-14.fit"
WALK = "fit/fitparse__garmin-fenix-5-walk.fit"
RIDE = "fit/fitparse__Edge810-Vector-2013-08-16-15-35-10.fit"


def corpus_file(name: str) -> tuple[bytes, dict[str, str]]:
    folder = corpus.require_corpus()
    row = next(r for r in corpus.manifest() if r["file"] == name)
    return (folder / name).read_bytes(), row


def listed(identifier: int, row: dict[str, str] | None, **fields) -> dict:
    """An activity as Garmin's summarizedActivities lists it (times from the manifest's
    session, not from Cairn's reading of the file)."""
    start = (datetime.fromisoformat(row["session_start_time"]) if row
             else datetime(2026, 1, 2, 7))
    elapsed = float(row["total_elapsed_time_s"]) if row else 600.0
    return {"activityId": identifier, "uuidMsb": 1, "activityType": "running",
            "sportType": "RUNNING", "startTimeGmt": start.timestamp() * 1000,
            "startTimeLocal": start.timestamp() * 1000 + 3600_000,
            "duration": elapsed * 1000, "distance": 512345.0, "avgHr": 140,
            "splitSummaries": [{"noOfSplits": 1, "splitType": "INTERVAL_ACTIVE"}]} | fields


def garmin_export() -> bytes:
    """DI_CONNECT/ as Garmin writes it: the list, the uploaded files in a nested zip (one
    named by its activity id as Garmin names them, one not, so found by its time)."""
    run, run_row = corpus_file(RUN)
    walk, walk_row = corpus_file(WALK)
    ride, ride_row = corpus_file(RIDE)
    activities = [
        listed(101, run_row, name="Trail loop", activityType="trail_running",
               description="Muddy.\nWorth it."),
        listed(102, walk_row, name="Up the hill", activityType="hiking"),
        listed(103, ride_row, name="Evening spin", activityType="road_biking"),
        listed(104, None, name="Lost watch run"),  # its file is not in the export
        listed(105, None, name="Gym (typed in)", activityType="strength_training",
               manualActivity=True),  # a manual entry: no file to miss
    ]
    part = factories.archive([(f"{EMAIL}_101.fit", run), (f"{EMAIL}_102.fit", walk),
                              ("upload_from_phone.fit", ride)])
    return factories.archive([
        (PART, part),  # before the list: the list is read first all the same
        (LIST, json.dumps([{"summarizedActivitiesExport": activities}]).encode()),
        ("DI_CONNECT/DI-Connect-User/user_profile.json", b'{"userName": "a_b"}'),
    ], folders=("DI_CONNECT/",))


def post(api, data: bytes):
    response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("garmin.zip", data)})
    assert response.status_code == 202, response.content
    return response.json()


def files(api, upload_id: int) -> dict[str, dict]:
    body = api.get(f"/api/v1/uploads/{upload_id}/files?limit=1000").json()
    return {f["name"]: f for f in body["files"]}


def test_garmin_export_names_sports_and_descriptions_apply_and_missing_is_reported(api):
    with freeze_time(NOW):
        upload = post(api, garmin_export())
        sweep.drain()
    found = files(api, upload["id"])
    by_id = {name.rsplit("/", 1)[-1]: Activity.objects.get(id=f["activity_id"])
             for name, f in found.items() if f["activity_id"]}
    run, walk, ride = (by_id[f"{EMAIL}_101.fit"], by_id[f"{EMAIL}_102.fit"],
                       by_id["upload_from_phone.fit"])
    assert (run.name, run.description, run.user_sport) == ("Trail loop", "Muddy.\nWorth it.",
                                                           "running")
    assert (walk.name, walk.user_sport) == ("Up the hill", "hiking")  # the file says walking
    assert (ride.name, ride.user_sport) == ("Evening spin", "cycling")  # matched by time
    assert api.get(f"/api/v1/activities/{walk.id}").json()["sport"] == "hiking"
    assert {a.status for a in (run, walk, ride)} == {"ready"}
    nested = found[f"{PART}/{EMAIL}_101.fit"]
    assert (nested["status"], nested["index"]) == ("imported", 0)
    missing = found[f"{LIST}#104"]
    assert (missing["status"], missing["activity_id"], missing["error_code"]) == (
        "missing", None, "Missing")
    assert "104" in missing["error"] and "Lost watch run" in missing["error"]
    assert "summarizedActivities.json" in missing["error"]
    assert not any("105" in name for name in found)  # the manual entry is not missed
    assert (found[LIST]["status"], found[LIST]["error_code"]) == ("skipped", "ActivityList")
    progress = api.get(f"/api/v1/uploads/{upload['id']}").json()
    assert progress["status"] == "ready"
    # The nested archive stands for its three files: five in all.
    assert progress["progress"] == {"files": 5, "seen": 5, "imported": 3, "duplicate": 0,
                                    "failed": 0, "skipped": 2, "missing": 1}
    assert list(ArchiveMember.objects.order_by("index", "within").values_list(
        "index", "within")) == [(0, 1), (0, 2), (0, 3), (1, 0), (2, 0), (5, 0)]


def test_an_owners_edit_is_kept_when_the_export_brings_the_same_file(api):
    run, _ = corpus_file(RUN)
    with freeze_time(NOW):
        first = post(api, run)
        sweep.drain()
    activity_id = first["activity_id"]
    response = api.patch(f"/api/v1/activities/{activity_id}",
                         data=json.dumps({"name": "My own name"}),
                         content_type="application/json")
    assert response.status_code == 200
    with freeze_time(NOW):
        upload = post(api, garmin_export())
        sweep.drain()
    member = files(api, upload["id"])[f"{PART}/{EMAIL}_101.fit"]
    assert (member["status"], member["duplicate_of"]) == ("duplicate", activity_id)
    assert Activity.objects.get(id=activity_id).name == "My own name"
    assert Activity.objects.count() == 3


def _gpx_text(size: int, seed: int) -> bytes:
    """A GPX file of about `size` bytes that deflates a few times, not as a bomb does."""
    points = size // 120
    return factories.gpx(points=points, seed=seed)


def _hostile(case: str) -> bytes:
    if case == "bomb":
        return zipcraft.overlapping(factories.gpx(seed=31), times=40)
    if case == "too_many":  # 50 alone are within the limit; with fine.gpx, 51 are not
        return zipcraft.directory_only(50)
    if case == "damaged":
        return b"PK\x03\x04" + b"\0" * 200
    if case == "too_deep":
        deeper = factories.archive([("deepest.gpx", factories.gpx(seed=32))])
        return factories.archive([("deeper.zip", deeper), ("ok.gpx", factories.gpx(seed=33))])
    if case == "inflates_too_far":
        return factories.archive([(f"big{i}.gpx", _gpx_text(700_000, 40 + i))
                                  for i in range(2)])
    raise AssertionError(case)


@pytest.mark.parametrize(("case", "code", "words"), [
    ("bomb", "ZipBomb", "share bytes"),
    ("too_many", "TooManyFiles", "limit of 50"),
    ("damaged", "BadArchive", "damaged"),
    ("too_deep", None, None),
    ("inflates_too_far", "TooLarge", "limit is 1 MB"),
])
def test_a_hostile_nested_archive_is_refused_with_a_sentence_and_nothing_lost(
        api, settings, case, code, words):
    settings.CAIRN_ARCHIVE_MAX_MEMBERS = 50
    settings.CAIRN_ARCHIVE_MAX_INFLATED_MB = 1
    data = factories.archive([("fine.gpx", factories.gpx(seed=30)), (PART, _hostile(case))])
    with freeze_time(NOW):
        upload = post(api, data)  # the archive itself is within every limit
        sweep.drain()
    found = files(api, upload["id"])
    assert found["fine.gpx"]["status"] == "imported"
    if case == "too_deep":
        deeper = found[f"{PART}/deeper.zip"]
        assert (deeper["status"], deeper["error_code"]) == ("failed", "TooDeep")
        assert "one level of nesting" in deeper["error"]
        assert found[f"{PART}/ok.gpx"]["status"] == "imported"
        assert Activity.objects.count() == 2
    else:
        refused = found[PART]
        assert (refused["status"], refused["error_code"]) == ("failed", code)
        assert words in refused["error"] and refused["error"].endswith(".")
        assert len(found) == 2 and Activity.objects.count() == 1
    archive = Archive.objects.get(upload_id=upload["id"])
    assert archive.expanded_at is not None and archive.error_code == ""
    assert archive.cursor == 2 and archive.inner_cursor == 0
    # Nothing lost: the archive as uploaded is kept, and the owner's activity is there.
    assert default_storage.exists(Upload.objects.get(id=upload["id"]).file_name)


class Crash(BaseException):
    """A worker killed mid-step (nothing in the expander catches it)."""


def test_a_crash_mid_nested_archive_resumes_without_duplicates(api, monkeypatch):
    with freeze_time(NOW):
        upload = post(api, garmin_export())
    archive = Archive.objects.get(upload_id=upload["id"])
    judged = []
    real_judge = expander.judge

    def dies_on_the_second_nested_file(zipped, info, *, nested=False):
        if nested:
            judged.append(info.filename)
            if len(judged) == 2:
                raise Crash
        return real_judge(zipped, info, nested=nested)

    monkeypatch.setattr(expander, "judge", dies_on_the_second_nested_file)
    with freeze_time(NOW), pytest.raises(Crash):
        claim = work_leases.claim_one(archive_kind.KIND, archive.id, now=NOW,
                                      owner="doomed", trigger="sweep")
        archive_kind.expand(claim)
    monkeypatch.undo()
    archive.refresh_from_db()
    # The first nested file is in, with the nested archive counted once for its files.
    assert (archive.cursor, archive.inner_cursor, archive.members_total) == (0, 1, 5)
    assert archive.lease_owner == "doomed"
    with freeze_time(NOW.replace(hour=13)):
        sweep.drain()  # the lease ran out: another worker resumes at the nested cursor
    archive.refresh_from_db()
    assert archive.expanded_at is not None
    assert (archive.cursor, archive.inner_cursor, archive.members_total) == (3, 0, 5)
    assert Activity.objects.count() == 3
    assert ArchiveMember.objects.count() == 6  # five files and the missing one, once each
    assert set(Activity.objects.values_list("name", flat=True)) == {
        "Trail loop", "Up the hill", "Evening spin"}
    assert ArchiveMember.objects.filter(status="missing").count() == 1


def test_an_export_whose_expansion_yields_inside_the_nested_archive_finishes_it(
        api, monkeypatch):
    """Out of time between two nested files: the next step picks up inside the nested
    archive (its limits were checked once; its files are counted once)."""
    with freeze_time(NOW):
        upload = post(api, garmin_export())
    archive = Archive.objects.get(upload_id=upload["id"])
    calls = iter(range(100))
    monkeypatch.setattr(expander.limits, "pending_full", lambda: next(calls) == 1)
    with freeze_time(NOW):
        claim = work_leases.claim_one(archive_kind.KIND, archive.id, now=NOW,
                                      owner="w1", trigger="sweep")
        assert archive_kind.expand(claim) == "yielded"
    archive.refresh_from_db()
    assert (archive.cursor, archive.inner_cursor) == (0, 1)
    with freeze_time(NOW + timedelta(minutes=5)):
        sweep.drain()
    archive.refresh_from_db()
    assert archive.members_total == 5 and archive.expanded_at is not None
    assert Activity.objects.count() == 3


def test_every_sport_garmins_list_can_give_is_one_an_owner_could_choose():
    from activities import edits
    from core import garmin_export

    assert set(garmin_export.SPORTS.values()) <= edits.SPORTS


def test_each_step_handles_a_nested_file_however_long_the_copy_took(api):
    """Copying a nested archive out may take a whole step's time: each step still
    records one of its files, so a large Part1.zip is never stuck."""
    with freeze_time(NOW):
        upload = post(api, garmin_export())
    archive = Archive.objects.get(upload_id=upload["id"])
    for step in (1, 2):
        with freeze_time(NOW):
            claim = work_leases.claim_one(archive_kind.KIND, archive.id, now=NOW,
                                          owner=f"w{step}", trigger="sweep")
            assert archive_kind.expand(claim, budget_s=-1) == "yielded"
        archive.refresh_from_db()
        assert (archive.cursor, archive.inner_cursor) == (0, step)


def test_a_refused_nested_archive_is_recorded_even_out_of_time(api):
    """Reading a hostile nested archive may use the step's time: its refusal is still
    recorded, so it is never read again."""
    data = factories.archive([(PART, _hostile("bomb")), ("fine.gpx", factories.gpx(seed=30))])
    with freeze_time(NOW):
        upload = post(api, data)
        archive = Archive.objects.get(upload_id=upload["id"])
        claim = work_leases.claim_one(archive_kind.KIND, archive.id, now=NOW,
                                      owner="w1", trigger="sweep")
        assert archive_kind.expand(claim, budget_s=-1) == "yielded"
    archive.refresh_from_db()
    assert archive.cursor == 1
    assert ArchiveMember.objects.get(index=0).error_code == "ZipBomb"
