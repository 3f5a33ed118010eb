"""Drift's "training" section: books flagged, leased, dead, at an old version, and loads
missing for processed activities whose owner's book says it is built, each provoked."""

from __future__ import annotations

import json
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from freezegun import freeze_time

from reconciler.operations import drift
from tests.conftest import NOW
from tests.db.test_training_book import post, settle, upload_rides
from training import flags, rebuild
from training.models import ActivityLoad, Book
from work import clock as work_clock

pytestmark = pytest.mark.django_db


def training() -> dict:
    return drift.count(now=work_clock.now())["training"]


def test_training_drift_counts_each_difference(user, other_user):
    with freeze_time(NOW) as clock:
        post(user, "ftp", 250, date(2025, 1, 1))
        ids = upload_rides(user, clock, watts=[200, 210, 220])
        upload_rides(other_user, clock, watts=[190])
        assert training() == {"total": 2, "pending": 0, "leased": 0, "stale_leases": 0,
                              "retrying": 0, "dead": 0, "old_version": 0, "loads_missing": 0,
                              "oldest_pending_age_s": None}

        ActivityLoad.objects.filter(activity_id=ids[1]).delete()  # lost by hand
        assert training()["loads_missing"] == 1
        flags.mark([user.id], now=work_clock.now())  # owed a rebuild: not counted as lost
        found = training()
        assert (found["pending"], found["loads_missing"], found["oldest_pending_age_s"]) == \
            (1, 0, 0.0)
        settle(clock)
        assert ActivityLoad.objects.filter(activity_id=ids[1]).exists()
        assert training()["loads_missing"] == training()["pending"] == 0

        Book.objects.filter(user=other_user).update(version=rebuild.VERSION - 1)
        Book.objects.filter(user=user).update(status=Book.Status.DEAD)
        found = training()
        assert (found["old_version"], found["dead"]) == (1, 1)

        out = StringIO()
        call_command("drift", "--json", stdout=out)
        assert json.loads(out.getvalue())["training"]["old_version"] == 1
        out = StringIO()
        call_command("drift", stdout=out)
        assert "training  total 2, pending 0" in out.getvalue()
