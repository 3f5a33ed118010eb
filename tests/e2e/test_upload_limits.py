"""The limits hold whatever the way in: an archive's files count against the pending
cap, and the per-user rate holds under concurrent uploads."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from freezegun import freeze_time

from activities import ingest, limits
from activities.expansion import kind as archive_kind
from activities.models import Activity, Archive, Upload
from reconciler import sweep
from tests import factories
from tests.conftest import NOW
from tests.e2e.test_archives import export, post
from work import leases as work_leases


@pytest.mark.django_db
def test_an_archive_expands_no_faster_than_the_pending_cap_lets_it(api, settings):
    settings.CAIRN_MAX_PENDING = 3
    with freeze_time(NOW) as frozen:
        upload_id = post(api, export(8)).json()["id"]
        archive = Archive.objects.get(upload_id=upload_id)
        claim = work_leases.claim_one(archive_kind.KIND, archive.id, now=NOW,
                                      owner="w", trigger="sweep")
        assert archive_kind.expand(claim) == "yielded"
        archive.refresh_from_db()
        # Three fresh activities wait: the archive stays pending, due when a refused
        # upload would be told to come back.
        assert Activity.objects.count() == 3
        assert archive.needs_work
        assert archive.due_at == NOW + timedelta(seconds=limits.BUSY_RETRY_S)
        sweep.drain()  # the workers catch up; the archive is not due yet
        assert Activity.objects.count() == 3
        assert not Activity.objects.filter(needs_work=True).exists()
        frozen.tick(timedelta(seconds=limits.BUSY_RETRY_S + 1))
        sweep.drain()
        assert Activity.objects.count() == 6
        settings.CAIRN_MAX_PENDING = 0
        frozen.tick(timedelta(seconds=limits.BUSY_RETRY_S + 1))
        sweep.drain()
    archive.refresh_from_db()
    assert Activity.objects.count() == 8
    assert not archive.needs_work


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_uploads_never_pass_the_rate_limit(user, settings):
    settings.CAIRN_UPLOADS_PER_MINUTE = 20
    files = [factories.gpx(points=30, seed=index) for index in range(40)]
    start = threading.Barrier(len(files))
    outcomes: list[str] = []

    def send(data: bytes) -> None:
        try:
            start.wait()
            ingest.accept(data, owner=user, original_name="a.gpx")
            outcomes.append("accepted")
        except ingest.Rejected as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(data,)) for data in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("accepted") == 20, outcomes
    assert outcomes.count("RateLimited") == 20
    assert Upload.objects.count() == 20
