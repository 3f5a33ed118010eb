"""A training build that is not whole reads only what moved (training.inputs.candidates:
two queries that return the activities whose signature may have moved) and merges into
the stored days and curve; after every kind of change its book must equal a whole
rebuild of the same inputs, row for row and byte for byte."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from freezegun import freeze_time

from activities import deletion, edits, ingest
from activities.models import Activity, Gear, Profile
from tests.conftest import NOW
from tests.db.test_training_book import day_of, last_attempt, post, settle, upload_rides
from tests.training import ride_fit
from training import flags, inputs, resync
from training.models import ActivityLoad, Book, Day
from work import clock as work_clock

pytestmark = pytest.mark.django_db

LOAD_FIELDS = ("activity_id", "day", "sport", "signature", "load", "source", "reason",
               "normalized_w", "intensity", "curve", "distance_dm", "moving_ds")
DAY_FIELDS = ("date", "load", "fitness", "fatigue", "form", "fitness_state", "fatigue_state")


def content(user) -> tuple:
    """Every load and day (without row ids), the curve and the gear totals."""
    book = Book.objects.get(user=user)
    return (sorted(ActivityLoad.objects.filter(user=user).values_list(*LOAD_FIELDS)),
            sorted(Day.objects.filter(user=user).values_list(*DAY_FIELDS)),
            book.curve, book.gear)


def equals_whole(user, clock) -> None:
    """The book as the last build left it equals a whole rebuild of the same inputs."""
    built = content(user)
    resync.resync([user.id], now=work_clock.now())
    settle(clock)
    assert last_attempt(user)["mode"] == "whole"
    assert content(user) == built


def ride(user, day: date, watts: float, name: str) -> int:
    start = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=9)
    return ingest.accept(ride_fit(start, watts=watts), owner=user, original_name=name).activity.id


def test_every_change_built_from_what_moved_equals_a_whole_rebuild(user):
    with freeze_time(NOW) as clock:
        post(user, "ftp", 250, date(2025, 1, 1))
        post(user, "lthr", 165, date(2025, 1, 1))
        ids = upload_rides(user, clock)
        equals_whole(user, clock)

        # A new activity on a day that has one, better than every other: it holds the
        # curve, and the day's load is both rides'.
        strong = ride(user, day_of(7), 300, "strong.fit")
        settle(clock)
        assert last_attempt(user)["mode"] == "changes"
        assert last_attempt(user)["loads_computed"] == 1
        assert {i for _, _, i in Book.objects.get(user=user).curve} == {strong}
        equals_whole(user, clock)

        tie = ride(user, day_of(1), 300, "tie.fit")  # as good, earlier: it holds them now
        settle(clock)
        assert {i for _, _, i in Book.objects.get(user=user).curve} == {tie}
        equals_whole(user, clock)

        post(user, "ftp", 215, day_of(3))  # thresholds from a day on
        settle(clock)
        assert last_attempt(user)["loads_computed"] == 6  # rides 3 to 7 and the strong one
        equals_whole(user, clock)

        ride(user, day_of(0) - timedelta(days=3), 170, "earlier.fit")  # before every other
        settle(clock)
        assert last_attempt(user)["series_from"] == (day_of(0) - timedelta(days=3)).isoformat()
        equals_whole(user, clock)

        deletion.request(Activity.objects.filter(id=tie), now=work_clock.now())
        settle(clock)  # the curve's holder gone: every curve read again
        assert last_attempt(user)["loads_removed"] == 1
        assert {i for _, _, i in Book.objects.get(user=user).curve} == {strong}
        equals_whole(user, clock)

        shoes = Gear.objects.create(owner=user, name="bike", kind="bike", sports=["cycling"],
                                    created_at=NOW)
        edits.apply(Activity.objects.get(id=ids[1]), {"gear_id": shoes.id})
        edits.apply(Activity.objects.get(id=ids[2]), {"sport": "running"})
        settle(clock)
        assert Book.objects.get(user=user).gear[str(shoes.id)][0] == 1
        equals_whole(user, clock)

        Profile.objects.update_or_create(user=user, defaults={"time_zone": "Pacific/Auckland"})
        flags.mark([user.id], now=work_clock.now())  # every day may move: all compared
        settle(clock)
        assert last_attempt(user)["mode"] == "changes"
        equals_whole(user, clock)


def test_the_candidates_are_what_moved_and_no_more(user):
    with freeze_time(NOW) as clock:
        post(user, "ftp", 250, date(2025, 1, 1))
        ids = upload_rides(user, clock)
        stored = Book.objects.get(user=user).basis
        assert inputs.candidates(user.id, since=None) == []  # all built: nothing moved
        Activity.objects.filter(id=ids[2]).update(user_sport="running")
        deletion.request(Activity.objects.filter(id=ids[4]), now=work_clock.now())
        assert inputs.candidates(user.id, since=None) == sorted([ids[2], ids[4]])
        post(user, "ftp", 240, day_of(6))
        since = inputs.moved_from(stored, inputs.basis(user.id))
        assert since == day_of(6)
        assert inputs.candidates(user.id, since=since) == sorted([ids[2], ids[4], ids[6],
                                                                  ids[7]])
        post(user, "lthr", 170, day_of(3))  # a new kind moves the days from its own on
        assert inputs.moved_from(stored, inputs.basis(user.id)) == day_of(3)
        settle(clock)
        assert inputs.candidates(user.id, since=None) == []
        assert inputs.moved_from(Book.objects.get(user=user).basis,
                                 inputs.basis(user.id)) is None
