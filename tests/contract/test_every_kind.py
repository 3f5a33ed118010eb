"""The contract every kind of reconciled work keeps, checked for each kind registered
with the kernel (work.kinds.ALL): what the kernel promises holds for all of them, not
just for the kind it was written for.

Each test runs once per kind, with a due row made by tests/contract/rows.py; a dead row
is seen in drift, /metrics and the admin, and replay brings it back.
"""

from __future__ import annotations

import dataclasses
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from freezegun import freeze_time

from reconciler import sweep
from tests import seaweed
from tests.conftest import NOW, subprocess_env, use_object_store
from tests.contract.rows import ROWS
from work import clock, kinds, leases, replay, run
from work import drift as work_drift
from work.models import Attempt

REPO = Path(__file__).resolve().parents[2]
KINDS = sorted(kinds.ALL)
LEASE = timedelta(seconds=settings.CAIRN_LEASE_S + 1)

pytestmark = [pytest.mark.django_db, pytest.mark.parametrize("name", KINDS)]


def claim(kind, *, now, owner="w-1", limit=10):
    return leases.claim(kind, limit=limit, now=now, owner=owner, trigger="sweep")


def row(kind, row_id):
    return kind.model.objects.get(id=row_id)


def test_every_registered_kind_has_rows_for_the_contract(name):
    assert name in ROWS, f"kind {name!r} has no row maker in tests/contract/rows.py"


def test_a_claim_leases_a_due_row_and_counts_the_attempt(name, user):
    kind = kinds.get(name)
    with freeze_time(NOW):
        row_id = ROWS[name].make(user, now=NOW)
        taken = [lease for lease in claim(kind, now=NOW) if lease.row_id == row_id]
    assert len(taken) == 1
    leased = row(kind, row_id)
    assert leased.lease_token == taken[0].token and leased.attempts == taken[0].attempts >= 1
    attempt = Attempt.objects.get(id=taken[0].attempt_id)
    assert (attempt.kind, attempt.row_id, attempt.outcome) == (name, row_id, "")


def test_two_claimers_never_hold_one_row(name, user):
    kind = kinds.get(name)
    with freeze_time(NOW):
        row_id = ROWS[name].make(user, now=NOW)
        first = {lease.row_id for lease in claim(kind, now=NOW, owner="a")}
        second = {lease.row_id for lease in claim(kind, now=NOW, owner="b")}
    assert row_id in first and row_id not in second


def test_an_orphan_is_taken_alone_and_first_and_its_death_counts(name, user, other_user):
    kind = kinds.get(name)
    with freeze_time(NOW) as clock:
        orphan = ROWS[name].make(user, now=NOW)
        dead_holder = [lease for lease in claim(kind, now=NOW) if lease.row_id == orphan]
        clock.tick(timedelta(seconds=1))
        waiting = ROWS[name].make(other_user, now=NOW + timedelta(seconds=1))
        clock.tick(LEASE)  # the holder never released: its lease ran out
        later = NOW + timedelta(seconds=1) + LEASE
        taken = claim(kind, now=later, owner="rescuer")
    assert [lease.row_id for lease in taken] == [orphan], "the orphan alone, before the rest"
    assert taken[0].orphan and taken[0].attempts == dead_holder[0].attempts + 1
    died = Attempt.objects.get(id=dead_holder[0].attempt_id)
    assert died.outcome == "worker_died" and died.error_code == "WorkerDied"
    assert waiting != orphan


def test_holders_that_keep_dying_make_the_row_dead_with_worker_died(name, user):
    kind = kinds.get(name)
    ceiling = kind.max_attempts()
    if ceiling is None:
        pytest.skip(f"{name} is never given up on (no maximum attempts)")
    now = NOW
    with freeze_time(NOW) as clock:
        row_id = ROWS[name].make(user, now=NOW)
        for _ in range(ceiling):
            assert [lease.row_id for lease in claim(kind, now=now)] == [row_id]
            clock.tick(LEASE)
            now += LEASE
        assert claim(kind, now=now) == []
    buried = row(kind, row_id)
    assert not buried.needs_work and buried.lease_token is None
    # Where the kind keeps a reason (its error fields), it says the workers died.
    for field in kind.error_fields("WorkerDied", "stopped"):
        said = getattr(buried, field)
        assert said == "WorkerDied" or "stopped" in said, (field, said)
    assert Attempt.objects.filter(kind=name, row_id=row_id, outcome="worker_died").count() \
        == ceiling


def test_a_late_release_after_the_lease_expired_is_refused_by_the_fence(name, user):
    kind = kinds.get(name)
    with freeze_time(NOW) as clock:
        row_id = ROWS[name].make(user, now=NOW)
        slow = [lease for lease in claim(kind, now=NOW, owner="slow") if lease.row_id == row_id]
        clock.tick(LEASE)
        rescuer = claim(kind, now=NOW + LEASE, owner="rescuer")
        before = row(kind, row_id)
        from work.outcomes import Done

        label = leases.release(kind, slow[0], Done(), now=NOW + LEASE)
    assert label == "lease_lost"
    after = row(kind, row_id)
    assert after.lease_token == before.lease_token == rescuer[0].token
    assert after.needs_work


@pytest.mark.parametrize("error", [OSError(5, "I/O error"), NotADirectoryError(20, "x"),
                                   RuntimeError("a bug"), KeyError("x")])
def test_whatever_a_rows_work_raises_is_that_rows_outcome_and_the_sweep_goes_on(
        name, error, user, other_user, monkeypatch):
    kind = kinds.get(name)
    if kind.run is None:
        pytest.skip(f"{name} runs in batches of its own (its tests cover this)")
    with freeze_time(NOW):
        doomed = ROWS[name].make(user, now=NOW)
        fine = ROWS[name].make(other_user, now=NOW)
        real = kind.run

        def work(lease):
            if lease.row_id == doomed:
                raise error
            return real(lease)

        monkeypatch.setitem(kinds.ALL, name, dataclasses.replace(kind, run=work))
        taken = claim(kinds.get(name), now=NOW)
        outcomes = run.run(kinds.get(name), taken)
    assert outcomes[doomed] == "retrying"
    assert outcomes.get(fine) not in {None, "lease_lost"}, "the next row was run all the same"
    crashed = row(kind, doomed)
    assert crashed.needs_work and crashed.lease_token is None and crashed.due_at > NOW


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only(reason="a second process holds the lease in the same database")
def test_a_holder_killed_with_sigkill_leaves_an_orphan_the_next_claim_rescues(name, user):
    kind = kinds.get(name)
    row_id = ROWS[name].make(user, now=NOW)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import time, django
            django.setup()
            from work import clock, kinds, leases
            taken = leases.claim(kinds.get({name!r}), limit=50, now=clock.now(),
                                 owner="doomed", trigger="sweep")
            print(" ".join(str(lease.row_id) for lease in taken), flush=True)
            time.sleep(600)  # mid-way, for ever
        """)],
        cwd=REPO, stdout=subprocess.PIPE, text=True,
        env=subprocess_env(CAIRN_CLOCK="local", DJANGO_SETTINGS_MODULE="settings"))
    try:
        leased = holder.stdout.readline().split()
        assert str(row_id) in leased
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
    held = row(kind, row_id)
    assert held.lease_owner == "doomed"
    later = held.lease_expires_at + timedelta(seconds=1)
    with freeze_time(later):
        taken = claim(kind, now=later, owner="rescuer")
    assert [lease.row_id for lease in taken] == [row_id] and taken[0].orphan
    assert Attempt.objects.get(kind=name, row_id=row_id, worker="doomed").outcome == \
        "worker_died"


@pytest.fixture(scope="module")
def own_weed(tmp_path_factory):
    yield from seaweed.fixture(tmp_path_factory, "weed-contract")


def test_the_store_away_for_longer_than_every_attempt_is_a_wait_and_then_it_completes(
        name, user, settings, monkeypatch, own_weed):
    """Real time (S3 signs requests with it); the sweep is handed later and later times,
    each past any wait. Before the kernel, an upload session failed WorkerDied after
    CAIRN_MAX_ATTEMPTS rounds of this."""
    if not ROWS[name].uses_store:
        pytest.skip(f"{name}'s work does not read the store")
    use_object_store(settings, monkeypatch, own_weed)
    kind = kinds.get(name)
    row_id = ROWS[name].make(user, now=clock.now())
    later = clock.now()
    own_weed.stop()
    try:
        for _ in range((kind.max_attempts() or 5) + 2):
            later += timedelta(minutes=10)
            sweep.sweep_once(now=later)
        away = row(kind, row_id)
        assert away.needs_work and away.lease_token is None
        assert getattr(away, "status", "") not in {"failed", "dead"}
        outcomes = set(Attempt.objects.filter(kind=name, row_id=row_id)
                       .values_list("outcome", flat=True))
        assert outcomes == {"waiting"}, outcomes
    finally:
        own_weed.start()
    for _ in range(6):
        later += timedelta(minutes=10)
        sweep.sweep_once(now=later)
    back = row(kind, row_id)
    assert not back.needs_work and getattr(back, "status", "") not in {"failed", "dead"}


def test_a_dead_row_shows_in_drift_metrics_and_admin_and_replay_revives_it(
        name, user, django_user_model):
    kind = kinds.get(name)
    ceiling = kind.max_attempts()
    if ceiling is None:
        pytest.skip(f"{name} is never given up on (no maximum attempts)")
    now = NOW
    with freeze_time(NOW) as clock:
        row_id = ROWS[name].make(user, now=NOW)
        for _ in range(ceiling):
            claim(kind, now=now)
            clock.tick(LEASE)
            now += LEASE
        assert claim(kind, now=now) == []  # buried
        assert work_drift.count(kind, now=now)["dead"] == 1
        scraped = Client().get("/metrics").content.decode()
        assert f'cairn_work_rows{{kind="{name}",state="dead"}} 1.0' in scraped
        django_user_model.objects.create_superuser("root", password="admin-pass-42")
        staff = Client()
        staff.login(username="root", password="admin-pass-42")
        meta = kind.model._meta
        listing = staff.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"),
                            {f"work_{name}": "dead"})
        assert [row.id for row in listing.context["cl"].result_list] == [row_id]
        assert replay.replay(kind, kind.model.objects.filter(id=row_id), now=now) == 1
        assert [lease.row_id for lease in claim(kind, now=now)] == [row_id]
