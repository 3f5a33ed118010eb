"""The export page (/settings/export/): ask for a zip, follow it, download it, delete it;
linked from the account page; another user's export cannot be deleted from it."""

from __future__ import annotations

import pytest
from django.test import Client

from exports.models import Export
from reconciler import sweep
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(user):
    client = Client()
    client.login(username="alice", password="correct-horse-9")
    return client


def test_the_account_page_links_the_export_page(browser):
    page = browser.get("/settings/").content.decode()
    assert '<h2 id="export-title">Export all your activities</h2>' in page
    assert 'href="/settings/export/"' in page


def test_asking_following_and_downloading_an_export(browser, upload):
    upload(factories.gpx(points=30))
    sweep.drain()
    page = browser.get("/settings/export/").content.decode()
    assert "You have no exports." in page
    assert '<label for="contents-both">' in page and '<label for="export-format">' in page

    asked = browser.post("/settings/export/", {"contents": "both", "format": "fit"})
    assert asked.status_code == 302 and asked["Location"] == "/settings/export/"
    export = Export.objects.get()
    assert (export.contents, export.format) == ("both", "fit")
    page = browser.get("/settings/export/").content.decode()
    assert "Waiting to start" in page and "reload this page" in page
    assert f'<progress id="progress-{export.id}" max="1" value="0">' in page
    assert 'aria-describedby="export-busy"' in page

    again = browser.post("/settings/export/", {"contents": "originals", "format": "gpx"})
    assert again.status_code == 409
    assert 'role="alert"' in again.content.decode() and "is being built" in \
        again.content.decode()

    sweep.drain()
    page = browser.get("/settings/export/").content.decode()
    assert "Ready" in page and "<progress" not in page
    link = f'href="/api/v1/exports/{export.id}/download"'
    assert link in page
    download = browser.get(f"/api/v1/exports/{export.id}/download")
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"


def test_a_bad_choice_is_a_400_with_a_message(browser):
    response = browser.post("/settings/export/", {"contents": "all", "format": "gpx"})
    assert response.status_code == 400
    assert "&quot;contents&quot; must be" in response.content.decode()
    assert not Export.objects.exists()


def test_deleting_from_the_page_and_not_another_users(browser, other_user):
    browser.post("/settings/export/", {"contents": "originals", "format": "gpx"})
    mine = Export.objects.get()
    theirs = Client()
    theirs.force_login(other_user)
    assert theirs.post(f"/settings/export/{mine.id}/delete/").status_code == 404
    assert theirs.get("/settings/export/").content.decode().count("<li id=\"export-") == 0
    assert browser.post(f"/settings/export/{mine.id}/delete/").status_code == 302
    assert "You have no exports." in browser.get("/settings/export/").content.decode()


def test_the_page_wants_a_sign_in():
    response = Client().get("/settings/export/")
    assert response.status_code == 302 and "/login/" in response["Location"]
