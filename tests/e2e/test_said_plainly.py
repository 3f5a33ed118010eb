"""What people see, said plainly: every activity has a name (the file's until it has a
title) on every page and download; duplicates are said to be duplicates; an archive's
page lists its files and what became of each; errors are sentences, with the parser's
words behind a disclosure; progress is a percentage; staff-only words stay with staff."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from freezegun import freeze_time

from activities import archives, ingest
from activities.models import Activity, ArchiveMember
from reconciler import sweep
from tests import factories, fitwriter
from tests.conftest import NOW
from tests.e2e.test_archives import export

pytestmark = [pytest.mark.django_db, pytest.mark.storage]


def _browser(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def _unnamed(data: bytes) -> bytes:
    return re.sub(rb"<name>[^<]*</name>", b"", data)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def _upload_page(browser: Client, data: bytes, name: str):
    return browser.post("/upload/", {"file": SimpleUploadedFile(name, data)})


# Names


def test_a_queued_activity_is_called_by_its_file_then_by_its_title(user):
    browser = _browser(user)
    with freeze_time(NOW):
        response = _upload_page(browser, _unnamed(factories.gpx(seed=3)), "lunch loop.gpx")
    status = response["Location"]
    page = browser.get(status).content.decode()
    assert "<h1>lunch loop.gpx</h1>" in page
    activity = Activity.objects.get()
    assert "lunch loop.gpx" in browser.get("/activities/").content.decode()
    assert "<h1>lunch loop.gpx</h1>" in browser.get(f"/activities/{activity.id}/").content.decode()
    with freeze_time(NOW):
        sweep.drain()
    # 07:03 UTC in January at 46 N 14.5 E is 08:03 there: a morning ride.
    assert "<h1>Morning Ride</h1>" in browser.get(status).content.decode()
    assert "<h1>Morning Ride</h1>" in browser.get(f"/activities/{activity.id}/").content.decode()


def test_a_failed_file_is_named_by_its_file_everywhere(user, upload):
    broken = upload(factories.gpx()[:200]).activity  # original_name "ride.gpx"
    sweep.drain()
    browser = _browser(user)
    page = browser.get(f"/activities/{broken.id}/").content.decode()
    assert "<h1>ride.gpx</h1>" in page and "<title>ride.gpx · Cairn</title>" in page
    assert ">ride.gpx</a>" in browser.get("/activities/").content.decode()
    recent = browser.get("/upload/").content.decode()
    assert f'<a href="/activities/{broken.id}/">ride.gpx</a>' in recent


def test_downloads_are_named_after_the_activity(user, api, upload):
    titled = upload(_unnamed(factories.gpx(seed=5))).activity
    named = upload(factories.gpx(seed=6), details=ingest.Details(name="Col du Galibier")).activity
    sweep.drain()
    response = api.get(f"/api/v1/activities/{titled.id}/original")
    assert response["Content-Disposition"] == 'attachment; filename="Morning Ride.gpx"'
    response = api.get(f"/api/v1/activities/{named.id}/original")
    assert response["Content-Disposition"] == 'attachment; filename="Col du Galibier.gpx"'


def test_an_unprocessed_download_takes_the_files_name_without_doubling_its_suffix(api, upload):
    queued = upload(factories.gpx(seed=7)).activity  # "ride.gpx", not processed yet
    response = api.get(f"/api/v1/activities/{queued.id}/original")
    assert response["Content-Disposition"] == 'attachment; filename="ride.gpx"'


def test_two_untitled_activities_never_both_read_activity(user, api):
    # FIT records without a sport or positions: the summary's title is a bare "Activity".
    def bare(seed: int) -> bytes:
        start = 1_768_000_000 + seed * 3600
        return fitwriter.activity({"time": [start + i for i in range(60)],
                                   "heart_rate": [120 + i % 5 for i in range(60)]})

    archive = factories.archive([("a/1.fit", bare(1)), ("a/2.fit", bare(2))])
    first = ingest.accept(bare(3), owner=user, original_name="").activity
    api.post("/api/v1/uploads", {"file": SimpleUploadedFile("two.zip", archive)})
    sweep.drain()
    page = _text(_browser(user).get("/activities/").content.decode())
    assert "1.fit" in page and "2.fit" in page and f"Activity {first.id}" in page
    assert not re.search(r"\bActivity (?!\d)", page.replace("Activities", ""))


def test_the_timeline_is_named_and_its_link_is_for_staff(user, upload, django_user_model):
    activity = upload(_unnamed(factories.gpx(seed=8))).activity
    sweep.drain()
    browser = _browser(user)
    assert "Debug timeline" not in browser.get(f"/activities/{activity.id}/").content.decode()
    timeline = browser.get(f"/activities/{activity.id}/timeline/").content.decode()
    assert "<h1>Timeline of Morning Ride</h1>" in timeline
    user.is_staff = True
    user.save()
    assert "Debug timeline" in browser.get(f"/activities/{activity.id}/").content.decode()


# Duplicates


def test_a_file_uploaded_again_says_so_and_links_to_it(user):
    browser = _browser(user)
    data = factories.gpx(seed=9)
    with freeze_time(NOW):
        first = _upload_page(browser, data, "a.gpx")
        sweep.drain()
        again = _upload_page(browser, data, "a.gpx")
    assert again["Location"] == first["Location"] + "?again=1"
    page = browser.get(again["Location"]).content.decode()
    activity = Activity.objects.get()
    assert (f'Already uploaded — <a href="/activities/{activity.id}/">open it</a>' in page)
    assert "Already uploaded" not in browser.get(first["Location"]).content.decode()


def test_an_archive_of_files_already_uploaded_says_so(user, api):
    data = export(6)
    with freeze_time(NOW):
        first = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("e.zip", data)}).json()
        sweep.drain()
        # The same activity files in another zip: nothing new came in.
        members = factories.archive([("again/2.gpx", factories.gpx(points=80, seed=902)),
                                     ("again/0.fit", factories.fit(points=300, seed=900))])
        other = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("o.zip", members)})
        sweep.drain()
    browser = _browser(user)
    page = browser.get(f"/uploads/{first['id']}/").content.decode()
    assert "9 files: 6 imported, 3 not activities, skipped." in page
    page = browser.get(f"/uploads/{other.json()['id']}/").content.decode()
    assert '<p id="archive-outcome">2 files, all already uploaded.</p>' in page, re.findall(
        r'<p id="archive-outcome">.*?</p>', page)
    # The same zip again: the page says it came before.
    with freeze_time(NOW):
        response = _upload_page(browser, data, "e.zip")
    assert response["Location"] == f"/uploads/{first['id']}/?again=1"
    page = browser.get(response["Location"]).content.decode()
    assert "Already uploaded: this archive came before" in page


def test_the_archive_page_lists_each_file_with_its_outcome_paged(user, api, monkeypatch):
    monkeypatch.setattr(archives, "PAGE_SIZE", 4)
    broken = factories.gpx(seed=40)[:300]
    data = factories.archive([("a/0.gpx", _unnamed(factories.gpx(points=80, seed=41))),
                              ("a/1.gpx", broken), ("notes.txt", b"hello"),
                              ("a/3.gpx", factories.gpx(points=80, seed=41)),  # 0 again
                              ("a/4.gpx", factories.gpx(points=80, seed=44))])
    with freeze_time(NOW):
        body = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("mix.zip", data)}).json()
        sweep.drain()
    browser = _browser(user)
    first = browser.get(f"/uploads/{body['id']}/").content.decode()
    rows = re.findall(r'<tr class="file-(\w+)"><td>([^<]*)</td><td>([^<]*)</td><td>(.*?)</td>',
                      first)
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("imported", "a/0.gpx", "Imported"), ("failed", "a/1.gpx", "Failed"),
        ("skipped", "notes.txt", "Skipped"), ("imported", "a/3.gpx", "Imported")]
    imported = ArchiveMember.objects.get(name="a/0.gpx").activity
    assert rows[0][3] == f'<a href="/activities/{imported.id}/">Morning Ride</a>'
    # Imported, then unreadable: failed, with the reason and the activity to delete.
    failed = ArchiveMember.objects.get(name="a/1.gpx").activity
    assert rows[1][3].startswith(f'<a href="/activities/{failed.id}/">1.gpx</a>: This file is '
                                 "damaged or incomplete")
    assert rows[2][3] == "This is not a FIT, GPX or TCX file, so it was left out."
    assert "Page 1 of 2" in first
    second = browser.get(f"/uploads/{body['id']}/?page=2").content.decode()
    assert '<td>a/4.gpx</td><td>Imported</td>' in second


def test_a_duplicate_inside_an_archive_is_listed_as_already_uploaded(user, api):
    ride = factories.gpx(points=80, seed=50)
    with freeze_time(NOW):
        ingest.accept(ride, owner=user, original_name="ride.gpx")
        body = api.post("/api/v1/uploads", {"file": SimpleUploadedFile(
            "z.zip", factories.archive([("x/ride.gpx", ride)]))}).json()
        sweep.drain()
    page = _browser(user).get(f"/uploads/{body['id']}/").content.decode()
    assert '<td>x/ride.gpx</td><td>Already uploaded</td>' in page
    assert "Its activity was already uploaded." in page


# Errors, progress, controls


def test_a_parsers_words_stay_behind_a_disclosure(user, upload):
    broken = upload(factories.fit(points=50)[:-40]).activity
    sweep.drain()
    broken.refresh_from_db()
    assert broken.error_code == "CorruptFile"
    page = _browser(user).get(f"/activities/{broken.id}/").content.decode()
    said = page.split('id="activity-error">', 1)[1].split("</p>", 1)[0]
    assert said.startswith("This file is damaged or incomplete")
    assert broken.error_message not in said
    details = page.split('<details class="technical">', 1)[1].split("</details>", 1)[0]
    assert "<summary>Technical details</summary>" in details
    assert broken.error_message.split(" (")[0] in details


def test_the_api_keeps_the_technical_message_and_adds_the_sentence(api, upload):
    broken = upload(factories.fit(points=50)[:-40])
    sweep.drain()
    body = api.get(f"/api/v1/uploads/{broken.upload.id}").json()
    broken.activity.refresh_from_db()
    assert body["error"] == broken.activity.error_message
    assert body["problem"].startswith("This file is damaged or incomplete")


def test_a_settings_file_offers_no_reprocess(user):
    settings_file = fitwriter.activity({}, file_type="settings")
    activity = ingest.accept(settings_file, owner=user, original_name="Settings.fit").activity
    sweep.drain()
    activity.refresh_from_db()
    assert activity.error_code == "NotAnActivity"
    page = _browser(user).get(f"/activities/{activity.id}/").content.decode()
    assert ">Reprocess</button>" not in page
    assert "This is not an activity recording" in page


def test_progress_is_a_percentage_not_step_names(user, upload):
    queued = upload()
    browser = _browser(user)
    for url in (f"/activities/{queued.activity.id}/", f"/uploads/{queued.upload.id}/"):
        page = browser.get(url).content.decode()
        assert "Processing: 0 %" in page and '<progress max="100" value="0"' in page
        assert "track" not in _text(page.split("<main", 1)[1]).lower().replace("tracks", "")


def test_the_records_timeline_speaks_plainly_to_its_owner(user, upload):
    upload(factories.gpx(points=400))
    for _ in range(4):
        sweep.sweep_once()
    page = _browser(user).get("/records/timeline/").content.decode()
    main = page.split("<main", 1)[1]
    assert "converged" not in main and "Worker" not in main and ":" + "vm" not in main
    assert "<td>Done</td>" in main
    assert "Up to date: built from every processed activity." in main


def test_sports_have_human_names_and_the_edit_page_offers_common_ones_first(user, upload):
    activity = upload(factories.gpx(seed=60)).activity  # <type>cycling</type>
    sweep.drain()
    browser = _browser(user)
    assert '<span class="sport">Ride</span>' in browser.get("/activities/").content.decode()
    page = browser.get(f"/activities/{activity.id}/edit/").content.decode()
    common = page.split('<optgroup label="Common">', 1)[1].split("</optgroup>", 1)[0]
    assert common.index(">Run<") < common.index(">Ride<") < common.index(">Walk<")
    assert "jumpmaster" not in page and "tactical" not in page and "generic" not in page
    assert '<option value="cross_country_skiing">Cross-country skiing</option>' in page
