"""Users' records, totals and heatmaps, kept by the sweep: a fresh upload counts within one
sweep; a delete, an edit of sport and a version bump rebuild the book whole; additions are
merged to the same book a whole build makes; leases, fences and attempts as activities."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from activities import deletion, edits, ingest
from activities.models import Activity, Derived
from core import records as core_records
from reconciler.sweep import sweep_once
from records import outdated, rebuild, serialize
from records.kind import KIND as BOOKS
from records.models import Book
from tests.conftest import NOW
from work import leases, run
from work.models import Attempt

pytestmark = pytest.mark.django_db


def run_gpx(*, speed_mps: float, points: int = 400, step_s: int = 1,
            start: datetime = datetime(2026, 1, 12, 7, tzinfo=UTC), sport: str = "running",
            lon0: float = 14.5) -> bytes:
    """A GPX run heading east at an even speed, climbing 5 m every 100 points."""
    rows = []
    for i in range(points):
        lon = lon0 + i * speed_mps * step_s / (111_320 * math.cos(math.radians(46.0)))
        when = start + timedelta(seconds=i * step_s)
        rows.append(f'<trkpt lat="46.0000000" lon="{lon:.7f}"><ele>{300 + 5 * (i // 100)}</ele>'
                    f"<time>{when:%Y-%m-%dT%H:%M:%SZ}</time></trkpt>")
    return ('<?xml version="1.0"?><gpx version="1.1" creator="t" '
            'xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><type>{sport}</type><trkseg>{''.join(rows)}</trkseg></trk></gpx>").encode()


def upload_run(user, **kwargs) -> int:
    accepted = ingest.accept(run_gpx(**kwargs), owner=user, original_name="run.gpx")
    return accepted.upload.activity_id if hasattr(accepted, "upload") else accepted.activity_id


def settle_all(clock=None) -> None:
    for _ in range(20):
        if not sweep_once().found_work:
            return
        if clock is not None:
            clock.tick(timedelta(seconds=1))
    raise AssertionError("the sweep did not settle")


def book_of(user) -> Book:
    return Book.objects.get(user=user)


def record(user, sport: str, kind: str) -> dict | None:
    for entry in serialize.record_list(book_of(user)):
        if entry["sport"] == sport and entry["kind"] == kind:
            return entry
    return None


def activity_ids(user) -> list[int]:
    return list(Activity.objects.filter(owner=user).order_by("id").values_list("id", flat=True))


def test_fresh_upload_has_records_within_one_sweep(user):
    with freeze_time(NOW):
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="run.gpx")
        sweep_once()
    book = book_of(user)
    assert book.status == Book.Status.READY and not book.needs_work
    [activity_id] = activity_ids(user)
    one_k = record(user, "running", "1k")
    assert one_k["activity_id"] == activity_id
    assert one_k["value"] == pytest.approx(250.0, abs=1.5)
    assert one_k["unit"] == "s"
    assert record(user, "running", "longest_distance")["activity_id"] == activity_id


def test_records_follow_a_delete_the_next_best_takes_over(user):
    with freeze_time(NOW) as clock:
        ingest.accept(run_gpx(speed_mps=3.0), owner=user, original_name="slow.gpx")
        ingest.accept(run_gpx(speed_mps=5.0, start=datetime(2026, 1, 13, 7, tzinfo=UTC)),
                      owner=user, original_name="fast.gpx")
        settle_all(clock)
        slow, fast = activity_ids(user)
        assert record(user, "running", "1k")["activity_id"] == fast
        deletion.request(Activity.objects.filter(id=fast), now=NOW)
        assert book_of(user).needs_work  # in the delete's own transaction
        settle_all(clock)
    assert record(user, "running", "1k")["activity_id"] == slow
    assert record(user, "running", "1k")["value"] == pytest.approx(1000 / 3.0, abs=1.5)
    assert Attempt.objects.filter(kind="book", detail__mode="whole").exists()


def test_records_follow_an_edit_of_sport(user):
    with freeze_time(NOW) as clock:
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="run.gpx")
        settle_all(clock)
        [activity_id] = activity_ids(user)
        edits.apply(Activity.objects.get(id=activity_id), {"sport": "cycling"})
        assert book_of(user).needs_work
        settle_all(clock)
    assert record(user, "running", "1k") is None
    assert record(user, "cycling", "longest_distance")["activity_id"] == activity_id
    totals = serialize.total_list(book_of(user), "week")
    assert [t["sport"] for t in totals] == ["cycling"]


def test_an_addition_is_merged_to_the_book_a_whole_build_makes(user):
    with freeze_time(NOW) as clock:
        ingest.accept(run_gpx(speed_mps=3.0), owner=user, original_name="a.gpx")
        settle_all(clock)
        # Faster, and inside the heatmap's frame (the first run's extent and its margin).
        ingest.accept(run_gpx(speed_mps=3.2, start=datetime(2026, 2, 3, 7, tzinfo=UTC)),
                      owner=user, original_name="b.gpx")
        settle_all(clock)
    merged = book_of(user)
    assert list(Attempt.objects.filter(kind="book").order_by("id").values_list(
        "detail__mode", flat=True)) == [
        "whole", "merged"]
    whole = rebuild.build(user.id)
    assert whole.mode == "merged"  # nothing changed: merging nothing
    Book.objects.filter(user=user).update(version=0)  # force the whole build
    whole = rebuild.build(user.id)
    assert whole.mode == "whole"
    assert whole.book.as_json() == merged.data
    assert whole.heat.dumps() == bytes(merged.heat)


def test_an_output_stored_without_a_digest_is_named_by_its_version_and_time(user):
    """Outputs stored before digests were kept: a book names them by version and time
    (the only outputs whose time a build reads), the others by their digests."""
    with freeze_time(NOW) as clock:
        activity_id = upload_run(user, speed_mps=3.0)
        settle_all(clock)
    summary = Derived.objects.get(activity_id=activity_id, deriver="summary")
    route = Derived.objects.get(activity_id=activity_id, deriver="route")
    Derived.objects.filter(id=summary.id).update(digest=None)
    built = rebuild.build(user.id)
    assert built.mode == "whole"  # a signature moved: not an addition
    signature = built.book.included[str(activity_id)]
    assert signature[1] == f"{summary.version}@{summary.updated_at.isoformat()}"
    assert signature[3] == bytes(route.digest).hex()


def test_totals_equal_the_sum_of_the_activities_own_figures(user):
    starts = [datetime(2026, 1, 12, 7, tzinfo=UTC), datetime(2026, 1, 14, 7, tzinfo=UTC),
              datetime(2026, 1, 20, 7, tzinfo=UTC), datetime(2026, 3, 2, 7, tzinfo=UTC)]
    with freeze_time(NOW) as clock:
        for n, start in enumerate(starts):
            ingest.accept(run_gpx(speed_mps=3.0 + n / 2, points=300 + 50 * n, start=start),
                          owner=user, original_name=f"{n}.gpx")
        settle_all(clock)
    import json

    summaries = {row.activity_id: json.loads(bytes(row.data)) for row in
                 Derived.objects.filter(deriver="summary", activity__owner=user)}
    book = book_of(user)
    for period in core_records.PERIODS:
        totals = serialize.total_list(book, period)
        assert sum(t["count"] for t in totals) == len(starts)
        for field in ("distance_m", "moving_s", "ascent_m"):
            assert sum(t[field] for t in totals) == pytest.approx(
                sum(s[field] for s in summaries.values()), abs=0.05)
    weeks = {t["period_start"]: t["count"] for t in serialize.total_list(book, "week")}
    assert weeks == {"2026-01-12": 2, "2026-01-19": 1, "2026-03-02": 1}


def test_a_version_bump_rebuilds_every_book_whole(user, other_user, monkeypatch):
    with freeze_time(NOW) as clock:
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="a.gpx")
        ingest.accept(run_gpx(speed_mps=4.0), owner=other_user, original_name="b.gpx")
        settle_all(clock)
        monkeypatch.setattr(rebuild, "VERSION", rebuild.VERSION + 1)
        outdated.SEEN.reset()  # a bump comes with a deploy: new processes
        settle_all(clock)
    assert set(Book.objects.values_list("version", flat=True)) == {rebuild.VERSION}
    assert Attempt.objects.filter(kind="book", detail__mode="whole").count() == 4


def test_a_best_efforts_bump_rebuilds_activities_then_records(user, monkeypatch):
    from core import derivers
    from core.derivers.best_efforts import BEST_EFFORTS

    with freeze_time(NOW) as clock:
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="a.gpx")
        settle_all(clock)
        bumped = BEST_EFFORTS.__class__(name="best_efforts", version=BEST_EFFORTS.version + 1,
                                        needs=("track",), derive=lambda track: {
                                            "running": {"1k": {"value": 1.0}}, "cycling": {}})
        monkeypatch.setattr(derivers, "ALL", tuple(bumped if d.name == "best_efforts" else d
                                                   for d in derivers.ALL))
        monkeypatch.setitem(derivers.BY_NAME, "best_efforts", bumped)
        monkeypatch.setitem(derivers.VERSIONS, "best_efforts", bumped.version)
        for _ in range(10):
            sweep_once()
            clock.tick(timedelta(seconds=61))  # past the backfill's coalescing wait
    assert record(user, "running", "1k")["value"] == 1.0


def test_a_stale_builder_writes_nothing(user):
    with freeze_time(NOW) as clock:
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="a.gpx")
        from reconciler.derivation import kind as activity_kind
        from reconciler.derivation.reconcile import reconcile_batch

        reconcile_batch(activity_kind.claim(limit=10, now=NOW, owner="w"), trigger="sweep")
        [first] = leases.claim(BOOKS, limit=1, now=NOW, owner="slow", trigger="sweep")
        clock.tick(timedelta(seconds=200))  # its lease runs out; another takes over
        later = NOW + timedelta(seconds=200)
        [second] = leases.claim(BOOKS, limit=1, now=later, owner="fast", trigger="sweep")
        assert second.row_id == first.row_id
        assert run.run_one(BOOKS, second) == "converged"
        assert run.run_one(BOOKS, first) == "lease_lost"
    # The first holder's attempt, closed as worker_died when its lease was taken over,
    # ends as what it was: a lease lost.
    outcomes = list(Attempt.objects.filter(kind="book").order_by("id").values_list(
        "outcome", flat=True))
    assert outcomes == ["lease_lost", "converged"]
    assert book_of(user).status == Book.Status.READY


def test_a_failing_build_retries_then_dies(user, monkeypatch, settings):
    settings.CAIRN_MAX_ATTEMPTS = 2

    def broken(user_id):
        raise RuntimeError("disk on fire")

    with freeze_time(NOW) as clock:
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="a.gpx")
        monkeypatch.setattr(rebuild, "build", broken)
        sweep_once()
        book = book_of(user)
        assert book.needs_work and book.attempts == 1 and book.error_code == "RuntimeError"
        clock.tick(timedelta(hours=2))
        sweep_once()
    book = book_of(user)
    assert book.status == Book.Status.DEAD and not book.needs_work
    assert list(Attempt.objects.filter(kind="book").order_by("id").values_list(
        "outcome", flat=True)) == [
        "retrying", "dead"]


def test_users_with_activities_and_no_book_get_one(user):
    with freeze_time(NOW) as clock:
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="a.gpx")
        settle_all(clock)
        Book.objects.all().delete()  # as before records existed
        outdated.SEEN.reset()  # and records are deployed: new processes
        settle_all(clock)
    assert book_of(user).status == Book.Status.READY


def test_leases_are_the_activities_machinery(user):
    with freeze_time(NOW):
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="a.gpx")
        from reconciler.derivation import kind as activity_kind
        from reconciler.derivation.reconcile import reconcile_batch

        reconcile_batch(activity_kind.claim(limit=10, now=NOW, owner="w"), trigger="sweep")
        [taken] = leases.claim(BOOKS, limit=5, now=NOW, owner="a", trigger="sweep")
        assert leases.claim(BOOKS, limit=5, now=NOW, owner="b", trigger="sweep") == []  # held
        assert book_of(user).attempts == 1  # counted at the claim
        assert leases.fenced(BOOKS, [taken.row_id], taken.token, now=NOW).keys() == {
            taken.row_id}


@pytest.mark.django_db(transaction=True)
def test_books_behind_are_flagged_outside_any_transaction(user):
    # The rollout step runs in autocommit (sweep_once holds no transaction around it).
    with freeze_time(NOW) as clock:
        ingest.accept(run_gpx(speed_mps=4.0), owner=user, original_name="a.gpx")
        settle_all(clock)
        Book.objects.all().delete()
        outdated.SEEN.reset()
        assert outdated.flag(now=NOW, batch=10, version=rebuild.VERSION) == 1
    assert book_of(user).needs_work


def test_a_user_far_past_a_gap_in_the_ids_is_found_at_the_first_look(django_user_model,
                                                                       monkeypatch):
    """Windows start at the next user there is: ids far apart (a long-lived database)
    cost no empty looks."""
    monkeypatch.setattr(outdated, "USERS_PER_LOOK", 2)
    far = django_user_model.objects.create_user("far", id=50_000)
    with freeze_time(NOW) as clock:
        upload_run(far, speed_mps=4.0, points=60)
        settle_all(clock)
        Book.objects.all().delete()
        outdated.SEEN.reset()
        assert outdated.flag(now=NOW, batch=10, version=rebuild.VERSION) == 1
    assert book_of(far).needs_work


def test_users_without_a_book_are_found_window_by_window(user, django_user_model,
                                                           monkeypatch):
    """The look for missing books reads a window of users per look (the look over every
    user read both tables whole each minute): users in every window are found, and it
    rests only after a whole cycle of windows found nothing."""
    monkeypatch.setattr(outdated, "USERS_PER_LOOK", 2)
    people = [user] + [django_user_model.objects.create_user(f"runner{n}") for n in range(4)]
    with freeze_time(NOW) as clock:
        for person in people:
            upload_run(person, speed_mps=4.0, points=60)
        settle_all(clock)
        Book.objects.all().delete()  # as before records existed
        outdated.SEEN.reset()
        found = []
        while sum(found) < len(people) and len(found) < 10_000:
            found.append(outdated.flag(now=NOW, batch=10, version=rebuild.VERSION))
        assert sum(found) == len(people)
        assert max(found) <= 2  # a window at a time
        assert set(Book.objects.values_list("user_id", flat=True)) == {p.id for p in people}
        settle_all(clock)
        outdated.SEEN.reset()  # a new process
        looks = 0
        while outdated.SEEN.idle_since is None:  # a quiet cycle, then it rests
            assert outdated.flag(now=NOW, batch=10, version=rebuild.VERSION) == 0
            looks += 1
        assert looks >= 2
        assert outdated.flag(now=NOW, batch=10, version=rebuild.VERSION) == 0
    assert {book_of(p).status for p in people} == {Book.Status.READY}
