"""Rate limits and back-pressure: 429 with Retry-After, before the file is stored."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from freezegun import freeze_time

from activities.models import Activity, Upload
from tests import factories
from tests.conftest import NOW

pytestmark = pytest.mark.django_db


def _post(api):
    return api.post("/api/v1/uploads", {"file": SimpleUploadedFile("a.gpx", factories.gpx())})


def test_user_over_the_rate_gets_429_with_retry_after_until_the_window_moves(api, settings):
    settings.CAIRN_UPLOADS_PER_MINUTE = 3
    with freeze_time(NOW) as clock:
        for _ in range(3):
            assert _post(api).status_code == 202
            clock.tick(timedelta(seconds=10))  # uploads at :00, :10, :20
        refused = _post(api)  # at :30
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "RateLimited"
        assert refused["Retry-After"] == "30"  # the :00 upload leaves the window at 1:00
        assert Upload.objects.count() == 3
        clock.tick(timedelta(seconds=31))
        assert _post(api).status_code == 202


def test_rate_is_per_user(api, other_user, settings):
    from django.test import Client

    from activities import tokens

    settings.CAIRN_UPLOADS_PER_MINUTE = 1
    assert _post(api).status_code == 202
    assert _post(api).status_code == 429
    mallory = Client(HTTP_AUTHORIZATION=f"Bearer {tokens.create(other_user)}")
    assert _post(mallory).status_code == 202


def test_too_much_fresh_work_waiting_refuses_uploads_with_429(api, settings, upload):
    settings.CAIRN_MAX_PENDING = 2
    upload()
    upload()
    refused = _post(api)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "Busy"
    assert refused["Retry-After"] == "30"
    assert Upload.objects.count() == 2


def test_backfill_does_not_hold_back_uploads(api, settings, upload):
    settings.CAIRN_MAX_PENDING = 2
    for _ in range(3):
        upload(limited=False)
    Activity.objects.update(priority=Activity.Priority.BACKFILL)
    assert _post(api).status_code == 202


def test_operator_import_is_not_rate_limited(user, settings, tmp_path):
    import json
    from io import StringIO

    from django.core.management import call_command

    settings.CAIRN_UPLOADS_PER_MINUTE = 1
    paths = []
    for index in range(3):
        path = tmp_path / f"{index}.gpx"
        path.write_bytes(factories.gpx())
        paths.append(str(path))
    out = StringIO()
    call_command("import_activities", *paths, "--owner", "alice", stdout=out)
    assert [json.loads(line)["error"] for line in out.getvalue().splitlines()] == [None] * 3
