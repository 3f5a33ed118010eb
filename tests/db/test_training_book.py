"""The training book kept by the sweep: loads worked by hand, a threshold change from day
D recomputing exactly the activities from D on (and the days from D on) and leaving the
rest as they were, the series equal to a direct computation of its recurrence, and a
delete or an edit of sport flagged in its own transaction."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time

from activities import deletion, edits, ingest
from activities.models import Activity, Profile
from reconciler.sweep import sweep_once
from tests.conftest import NOW
from tests.training import ride_fit
from training import thresholds
from training.models import ActivityLoad, Book, Day
from work.models import Attempt

pytestmark = pytest.mark.django_db

#: Ride i is on FIRST + 2i days at 07:00 UTC, 1800 s at WATTS[i].
FIRST = date(2025, 12, 20)
WATTS = [150, 180, 200, 220, 160, 240, 190, 210]


def tss(watts: float, ftp: float, seconds: float = 1800) -> float:
    """By hand: even power, so NP = watts; TSS = hours × IF² × 100."""
    return seconds / 3600 * (watts / ftp) ** 2 * 100


def day_of(i: int) -> date:
    return FIRST + timedelta(days=2 * i)


def settle(clock) -> None:
    for _ in range(30):
        if not sweep_once().found_work:
            return
        clock.tick(timedelta(seconds=1))
    raise AssertionError("the sweep did not settle")


def upload_rides(user, clock, watts=WATTS) -> dict[int, int]:
    """Ride index -> activity id, every ride settled and the book built."""
    ids = {}
    for i, w in enumerate(watts):
        start = datetime.combine(day_of(i), datetime.min.time(), UTC) + timedelta(hours=7)
        accepted = ingest.accept(ride_fit(start, watts=w), owner=user,
                                 original_name=f"ride{i}.fit")
        ids[i] = accepted.activity.id
    settle(clock)
    return ids


def post(user, kind: str, value: int, effective: date) -> None:
    from work import clock as work_clock

    thresholds.put(user.id, thresholds.Wanted(kind, value, effective), now=work_clock.now())


def rows(user) -> dict[int, tuple]:
    """Every stored load as (pk, all its fields): a row rewritten gets a new pk."""
    return {r.activity_id: (r.pk, r.day, r.signature, r.load, r.source, r.normalized_w,
                            r.intensity, r.curve)
            for r in ActivityLoad.objects.filter(user=user)}


def days(user) -> dict[date, tuple]:
    return {d.date: (d.pk, d.load, d.fitness, d.fatigue, d.form, d.fitness_state,
                     d.fatigue_state) for d in Day.objects.filter(user=user)}


def last_attempt(user) -> dict:
    book = Book.objects.get(user=user)
    return Attempt.objects.filter(kind="training", row_id=book.id).latest("id").detail


def test_each_load_is_the_hand_worked_tss_with_the_ftp_in_force(user):
    with freeze_time(NOW) as clock:
        post(user, "ftp", 250, date(2025, 1, 1))
        ids = upload_rides(user, clock)
    stored = {r.activity_id: r for r in ActivityLoad.objects.filter(user=user)}
    assert set(stored) == set(ids.values())
    for i, activity_id in ids.items():
        row = stored[activity_id]
        assert row.day == day_of(i) and row.source == "power"
        assert row.load == pytest.approx(tss(WATTS[i], 250), rel=1e-9)
        assert row.normalized_w == pytest.approx(WATTS[i], rel=1e-9)
        assert row.intensity == pytest.approx(WATTS[i] / 250, rel=1e-9)
        # Even power: every duration's best is the same watts.
        assert {d: w for d, w, _ in row.curve}[60] == pytest.approx(WATTS[i])
    book = Book.objects.get(user=user)
    assert book.status == Book.Status.READY and not book.needs_work
    best = max(range(len(WATTS)), key=lambda i: WATTS[i])
    assert {d: (round(w), i) for d, w, i in book.curve}[1200] == (WATTS[best], ids[best])


def test_a_threshold_from_day_d_rebuilds_exactly_the_activities_from_d_on(user):
    with freeze_time(NOW) as clock:
        post(user, "ftp", 250, date(2025, 1, 1))
        ids = upload_rides(user, clock)
        before_rows, before_days = rows(user), days(user)
        cut = day_of(5)  # rides 5, 6, 7 are on or after it
        post(user, "ftp", 200, cut)
        assert Book.objects.get(user=user).needs_work  # in the threshold's transaction
        settle(clock)
    after_rows, after_days = rows(user), days(user)
    later = {ids[i] for i in ids if day_of(i) >= cut}
    assert len(later) == 3
    assert last_attempt(user)["loads_computed"] == 3
    assert last_attempt(user)["series_from"] == cut.isoformat()
    for activity_id in ids.values():
        if activity_id in later:
            assert after_rows[activity_id][0] != before_rows[activity_id][0]
        else:  # not rewritten: the same row, every field as it was
            assert after_rows[activity_id] == before_rows[activity_id]
    for i in ids:
        expected = tss(WATTS[i], 200 if day_of(i) >= cut else 250)
        assert after_rows[ids[i]][3] == pytest.approx(expected, rel=1e-9)
    assert {d: v for d, v in after_days.items() if d < cut} == \
        {d: v for d, v in before_days.items() if d < cut}
    assert all(after_days[d][0] != before_days[d][0] for d in before_days if d >= cut)


def test_the_series_equals_a_direct_computation_of_the_recurrence(user):
    with freeze_time(NOW) as clock:
        post(user, "ftp", 230, date(2025, 1, 1))
        upload_rides(user, clock)
        post(user, "ftp", 210, day_of(3))  # a restart from day 3 must not move anything
        settle(clock)
    loads: dict[date, float] = {}
    for i, w in enumerate(WATTS):
        loads[day_of(i)] = tss(w, 210 if i >= 3 else 230)
    stored = {d.date: d for d in Day.objects.filter(user=user)}
    fit = tired = 0.0
    day = FIRST
    assert min(stored) == FIRST and max(stored) == NOW.date()
    while day <= NOW.date():
        form = fit - tired
        load = loads.get(day, 0.0)
        # Written the other way round from core.training.fitness: decay, then add.
        fit = fit * math.exp(-1 / 42) + load * (1 - math.exp(-1 / 42))
        tired = tired * math.exp(-1 / 7) + load * (1 - math.exp(-1 / 7))
        row = stored[day]
        assert row.load == pytest.approx(load, abs=1e-9)
        assert (row.fitness, row.fatigue, row.form) == pytest.approx(
            (fit, tired, form), abs=0.005 + 1e-9), day
        day += timedelta(days=1)


def test_a_restart_from_d_equals_a_whole_rebuild(user):
    with freeze_time(NOW) as clock:
        post(user, "ftp", 250, date(2025, 1, 1))
        upload_rides(user, clock)
        post(user, "ftp", 200, day_of(4))
        settle(clock)
        restarted = {d: v[1:] for d, v in days(user).items()}
        from training import resync
        from work import clock as work_clock

        resync.resync([user.id], now=work_clock.now())
        settle(clock)
    assert last_attempt(user)["mode"] == "whole"
    assert {d: v[1:] for d, v in days(user).items()} == restarted


def test_a_delete_moves_the_series_from_its_day_and_an_edit_of_sport_is_flagged(user):
    with freeze_time(NOW) as clock:
        post(user, "ftp", 250, date(2025, 1, 1))
        ids = upload_rides(user, clock)
        before_days = days(user)
        deletion.request(Activity.objects.filter(id=ids[6]), now=NOW)
        assert Book.objects.get(user=user).needs_work  # in the delete's transaction
        settle(clock)
        assert last_attempt(user)["series_from"] == day_of(6).isoformat()
        assert last_attempt(user)["loads_removed"] == 1
        assert not ActivityLoad.objects.filter(activity_id=ids[6]).exists()
        assert {d: v for d, v in days(user).items() if d < day_of(6)} == \
            {d: v for d, v in before_days.items() if d < day_of(6)}
        assert days(user)[day_of(6)][1] == 0.0
        edits.apply(Activity.objects.get(id=ids[2]), {"sport": "running"})
        assert Book.objects.get(user=user).needs_work
        settle(clock)
    assert ActivityLoad.objects.get(activity_id=ids[2]).sport == "running"
    assert last_attempt(user)["series_from"] is None  # the load did not move


def test_the_profiles_maximum_heart_rate_stands_in_for_a_dated_one(user):
    entries = [thresholds.history(user.id)]
    assert entries == [[]]
    Profile.objects.create(user=user, max_hr=190)
    post(user, "lthr", 170, date(2025, 1, 1))
    post(user, "hr_rest", 50, date(2025, 1, 1))
    found = thresholds.in_force(thresholds.history(user.id), date(2025, 6, 1),
                                thresholds.profile_max_hr(user.id))
    assert found == {"lthr": 170.0, "hr_rest": 50.0, "hr_max": 190.0}
    post(user, "hr_max", 185, date(2025, 3, 1))
    history = thresholds.history(user.id)
    assert thresholds.in_force(history, date(2025, 6, 1), 190.0)["hr_max"] == 185.0
    assert thresholds.in_force(history, date(2025, 2, 1), 190.0)["hr_max"] == 190.0


def test_a_new_maximum_heart_rate_in_the_account_owes_a_rebuild(user):
    from django.test import Client

    browser = Client()
    browser.login(username="alice", password="correct-horse-9")
    with freeze_time(NOW) as clock:
        upload_rides(user, clock, watts=[200])
        assert not Book.objects.get(user=user).needs_work
        saved = browser.post("/settings/", {"units": "metric", "time_zone": "", "max_hr": 188})
        assert saved.status_code == 302
        assert Book.objects.get(user=user).needs_work  # in the profile's transaction
        settle(clock)
        assert ActivityLoad.objects.get(user=user).signature[-1] == 188.0
        browser.post("/settings/", {"units": "imperial", "time_zone": "", "max_hr": 188})
    assert not Book.objects.get(user=user).needs_work  # units alone move no load


def test_the_activity_page_uses_the_maximum_heart_rate_in_force_on_its_day(user):
    from django.test import Client

    browser = Client()
    browser.login(username="alice", password="correct-horse-9")
    Profile.objects.create(user=user, max_hr=200)
    with freeze_time(NOW) as clock:
        ids = upload_rides(user, clock, watts=[200, 200, 200])
        post(user, "hr_max", 180, day_of(1))  # rides 1 and 2 on or after it
        shown = {i: browser.get(f"/activities/{ids[i]}/").context["max_hr"] for i in ids}
    assert shown == {0: 200, 1: 180, 2: 180}


def test_the_admin_shows_a_books_builds_and_rebuilds_it_whole(user, django_user_model):
    from django.test import Client

    django_user_model.objects.create_superuser("root", password="admin-pass-42")
    staff = Client()
    staff.login(username="root", password="admin-pass-42")
    with freeze_time(NOW) as clock:
        post(user, "ftp", 250, date(2025, 1, 1))
        upload_rides(user, clock, watts=[200, 210])
        book = Book.objects.get(user=user)
        page = staff.get(f"/admin/training/book/{book.id}/change/").content.decode()
        assert "Loads computed" in page and "converged" in page
        staff.post("/admin/training/book/", {"action": "rebuild", "_selected_action": [book.id]})
        assert Book.objects.get(id=book.id).whole
        settle(clock)
    assert last_attempt(user)["mode"] == "whole" and last_attempt(user)["loads_computed"] == 2
