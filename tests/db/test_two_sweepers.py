"""Two sweepers in two processes share 200 activities: never one activity at once."""

import itertools
import subprocess
import sys

import pytest

from activities import ingest
from activities.models import Activity
from tests import factories
from tests.conftest import subprocess_env
from work.models import Attempt

REPO = __import__("pathlib").Path(__file__).resolve().parents[2]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sweeper_processes_never_hold_the_same_activity_and_finish_all(user):
    for seed in range(200):
        ingest.accept(factories.gpx(points=150, seed=10_000 + seed), owner=user,
                      original_name=f"{seed}.gpx")
    env = subprocess_env(CAIRN_CLOCK="database")
    sweepers = [
        subprocess.Popen([sys.executable, "manage.py", "reconcile", "--once", "--batch", "2"],
                         cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for sweeper in sweepers:
        out, err = sweeper.communicate(timeout=240)
        assert sweeper.returncode == 0, err.decode()[-2000:]

    assert Activity.objects.filter(status=Activity.Status.READY).count() == 200
    attempts = list(Attempt.objects.filter(kind="activity").order_by("row_id", "started_at"))
    workers = {a.worker for a in attempts}
    assert len(workers) == 2, "both sweepers should have taken work"
    for activity_id, group in itertools.groupby(attempts, key=lambda a: a.row_id):
        group = list(group)
        assert [a.outcome for a in group] == [Attempt.Outcome.CONVERGED], activity_id
        for first, second in itertools.pairwise(group):
            assert min(first.ended_at, first.held_until) <= second.started_at
