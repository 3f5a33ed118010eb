"""Migration records 0003: a book's attempts move into the one attempt log (work.Attempt,
kind "book"), what the build did in its detail; the old table goes."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("records", "0002_book_by_version")]
AFTER = [("records", "0003_book_attempts_into_work")]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_book_attempts_are_copied_into_the_one_log():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    owner = apps.get_model("auth", "User").objects.create(username="old")
    book = apps.get_model("records", "Book").objects.create(user=owner, due_at=NOW)
    BookAttempt = apps.get_model("records", "BookAttempt")
    BookAttempt.objects.create(
        book=book, worker="host:1", lease_token="a" * 32, started_at=NOW,
        ended_at=NOW + timedelta(seconds=2), outcome="converged", mode="whole",
        activities_read=12, duration_ms=2000)
    BookAttempt.objects.create(
        book=book, worker="host:2", lease_token="b" * 32, started_at=NOW + timedelta(hours=1),
        ended_at=NOW + timedelta(hours=1), outcome="retrying", error_code="RuntimeError",
        error_message="Building these records failed unexpectedly (RuntimeError).")

    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from work.models import Attempt
    rows = list(Attempt.objects.filter(kind="book", row_id=book.id).order_by("started_at")
                .values("worker", "lease_token", "outcome", "detail", "error_code",
                        "ended_at", "held_until"))
    assert rows == [
        {"worker": "host:1", "lease_token": "a" * 32, "outcome": "converged",
         "detail": {"mode": "whole", "activities_read": 12, "duration_ms": 2000},
         "error_code": "", "ended_at": NOW + timedelta(seconds=2),
         "held_until": NOW + timedelta(seconds=2)},
        {"worker": "host:2", "lease_token": "b" * 32, "outcome": "retrying",
         "detail": {"mode": "", "activities_read": 0, "duration_ms": 0},
         "error_code": "RuntimeError", "ended_at": NOW + timedelta(hours=1),
         "held_until": NOW + timedelta(hours=1)}]
    assert "records_bookattempt" not in connection.introspection.table_names()
