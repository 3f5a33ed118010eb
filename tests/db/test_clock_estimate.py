"""The estimate of the database clock that fresh uploads are stamped with: the database's
time (not this host's), without a round trip per upload."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from work import clock

pytestmark = [pytest.mark.postgres_only(reason="the database clock is PostgreSQL's"),
              pytest.mark.django_db]


@pytest.fixture(autouse=True)
def _database_clock(settings):
    settings.CAIRN_CLOCK = "database"


def test_the_estimate_asks_the_database_once_then_moves_on_locally():
    first = clock.estimate()
    with CaptureQueriesContext(connection) as queries:
        second = clock.estimate()
    assert len(queries) == 0
    assert first <= second


def test_the_estimate_is_the_database_clock():
    estimated = clock.estimate()
    measured = clock.now()
    assert abs((measured - estimated).total_seconds()) < 1


def test_the_estimate_is_measured_again_after_a_while(monkeypatch):
    clock.estimate()
    later = clock.ESTIMATE.measured[3] + clock.ESTIMATE_FOR_S + 1
    monkeypatch.setattr(clock.time, "monotonic", lambda: later)
    with CaptureQueriesContext(connection) as queries:
        clock.estimate()
    assert len(queries) == 1
