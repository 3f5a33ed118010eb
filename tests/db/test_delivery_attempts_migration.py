"""Migration webhooks 0003: a delivery's tries move into the one attempt log
(work.Attempt, kind "delivery"), the status code and duration in its detail; the last try
of a dead delivery is the one that made it dead; the old table goes."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("webhooks", "0002_challenges_delivery_windows")]
AFTER = [("webhooks", "0003_delivery_attempts_into_work")]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_delivery_tries_are_copied_into_the_one_log():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    owner = apps.get_model("auth", "User").objects.create(username="old")
    sub = apps.get_model("webhooks", "Subscription").objects.create(
        owner=owner, url="https://example.com/hook", secret="s", created_at=NOW)
    Delivery = apps.get_model("webhooks", "Delivery")
    Try = apps.get_model("webhooks", "DeliveryAttempt")

    def delivery(n: int, status: str):
        return Delivery.objects.create(
            subscription=sub, message_id=f"msg_{n}", event="activity.created", body="{}",
            destination="https://example.com:443", status=status, created_at=NOW, due_at=NOW)

    delivered, dead = delivery(1, "delivered"), delivery(2, "dead")
    Try.objects.create(delivery=delivered, started_at=NOW, duration_ms=40, status_code=500,
                       error="The receiver answered 500.")
    Try.objects.create(delivery=delivered, started_at=NOW + timedelta(minutes=1),
                       duration_ms=30, status_code=200)
    for n in range(2):
        Try.objects.create(delivery=dead, started_at=NOW + timedelta(minutes=n),
                           duration_ms=5000, status_code=None, error="timed out")

    executor.loader.build_graph()
    executor.migrate(AFTER)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from work.models import Attempt

    def log(row_id: int) -> list[tuple]:
        return list(Attempt.objects.filter(kind="delivery", row_id=row_id)
                    .order_by("started_at").values_list("outcome", "detail", "error_message",
                                                        "ended_at"))

    assert log(delivered.id) == [
        ("retrying", {"status_code": 500, "duration_ms": 40}, "The receiver answered 500.",
         NOW + timedelta(milliseconds=40)),
        ("converged", {"status_code": 200, "duration_ms": 30}, "",
         NOW + timedelta(minutes=1, milliseconds=30))]
    assert [row[0] for row in log(dead.id)] == ["retrying", "dead"]
    assert "webhooks_deliveryattempt" not in connection.introspection.table_names()
