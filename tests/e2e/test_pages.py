"""The plain browser pages: sign-in, upload form with CSRF, status, owner-only."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from activities.models import Upload
from tests import factories

pytestmark = pytest.mark.django_db


def test_upload_page_requires_sign_in():
    response = Client().get("/upload/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_signed_in_user_uploads_through_the_form_with_csrf(user):
    browser = Client(enforce_csrf_checks=True)
    assert browser.login(username="alice", password="correct-horse-9")
    page = browser.get("/upload/")
    token = page.cookies["csrftoken"].value
    refused = browser.post("/upload/", {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    assert refused.status_code == 403  # no CSRF token
    response = browser.post("/upload/", {"file": SimpleUploadedFile("a.gpx", factories.gpx()),
                                         "csrfmiddlewaretoken": token})
    upload = Upload.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/uploads/{upload.id}/"
    status = browser.get(response["Location"])
    assert b"queued" in status.content


def test_bad_file_through_the_form_shows_the_reason(user):
    browser = Client()
    browser.login(username="alice", password="correct-horse-9")
    response = browser.post("/upload/", {"file": SimpleUploadedFile("a.gpx", b"hello")},
                            follow=True)
    assert b"neither FIT nor GPX" in response.content
    assert not Upload.objects.exists()


def test_other_users_upload_page_is_404(user, other_user, upload):
    accepted = upload()
    browser = Client()
    browser.login(username="mallory", password="battery-staple-7")
    assert browser.get(f"/uploads/{accepted.upload.id}/").status_code == 404
