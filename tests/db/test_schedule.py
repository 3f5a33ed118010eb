"""The sweep schedule and q2 settings keep q2's quirks harmless (DESIGN.md, django-q2)."""

import pytest
from django.conf import settings
from django_q.models import Schedule

from reconciler import tasks


@pytest.mark.django_db
def test_migration_created_one_named_sweep_schedule():
    [schedule] = Schedule.objects.filter(name="cairn-sweep")
    assert schedule.func == "reconciler.tasks.sweep_due"
    assert schedule.schedule_type == Schedule.MINUTES
    assert schedule.repeats == -1
    assert callable(tasks.sweep_due)


def test_q2_is_configured_so_that_a_nudge_is_tried_once_and_missed_runs_are_dropped():
    q = settings.Q_CLUSTER
    assert q["max_attempts"] == 1
    assert q["ack_failures"] is True
    assert q["catch_up"] is False
    assert q["retry"] > q["timeout"]
