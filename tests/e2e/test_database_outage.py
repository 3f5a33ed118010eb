"""While the database is away: 503 with Retry-After instead of a 500, and sweepers that
keep going."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError

from activities import ingest
from reconciler import sweep
from reconciler.management.commands import reconcile
from tests import factories

pytestmark = pytest.mark.django_db


def test_upload_while_the_database_is_down_answers_503_with_retry_after(api, monkeypatch):
    def database_down(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1 failed: Connection refused")

    monkeypatch.setattr(ingest, "accept", database_down)
    response = api.post("/api/v1/uploads", {"file": SimpleUploadedFile("a.gpx", factories.gpx())})
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["error"]["code"] == "Unavailable"


@pytest.mark.django_db(transaction=True)  # the step closes broken connections
def test_sweeper_loop_survives_database_errors_and_goes_on(upload, monkeypatch):
    upload()
    real = sweep.sweep_once
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) <= 2:
            raise OperationalError("terminating connection due to administrator command")
        return real(**kwargs)

    monkeypatch.setattr(sweep, "sweep_once", flaky)
    command = reconcile.Command()
    assert command.step(None) == reconcile.FAILED
    assert command.step(None) == reconcile.FAILED
    assert command.step(None) == reconcile.BUSY
    assert command.step(None) == reconcile.IDLE


@pytest.mark.django_db(transaction=True)
def test_sweeper_loop_outlives_a_round_that_crashes(upload, monkeypatch):
    """Not only the database: whatever one round raises (here a step's OSError, as a tus
    folder replaced by a file once raised), the loop logs it and goes on."""
    from reconciler.operations import housekeeping

    upload()
    real = housekeeping.tidy
    calls = []

    def broken(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise NotADirectoryError(20, "Not a directory", "files/tus/1")
        return real(**kwargs)

    monkeypatch.setattr(housekeeping, "tidy", broken)
    command = reconcile.Command()
    assert command.step(None) == reconcile.FAILED
    assert command.step(None) == reconcile.BUSY
