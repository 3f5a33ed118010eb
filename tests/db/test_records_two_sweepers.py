"""Two sweepers, two connections, one set of books: never one user's book at once."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection

from records import rebuild
from records.kind import KIND as BOOKS
from records.models import Book
from work import clock, leases, run
from work.models import Attempt


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_sweepers_never_hold_one_user_at_once(django_user_model, monkeypatch):
    users = [django_user_model.objects.create_user(f"u{n}") for n in range(40)]
    now = clock.now()
    Book.objects.bulk_create([Book(user=u, due_at=now, pending_since=now) for u in users])
    real_build = rebuild.build
    guard = threading.Lock()
    building: dict[int, str] = {}
    overlaps: list[tuple[int, str, str]] = []
    built_by: dict[str, int] = {"a": 0, "b": 0}

    def watched_build(user_id: int):
        name = threading.current_thread().name
        with guard:
            if user_id in building:
                overlaps.append((user_id, building[user_id], name))
            building[user_id] = name
            built_by[name] += 1
        try:
            time.sleep(0.01)  # long enough for the other sweeper to try the same user
            return real_build(user_id)
        finally:
            with guard:
                building.pop(user_id, None)

    monkeypatch.setattr(rebuild, "build", watched_build)
    errors: list[BaseException] = []

    def sweeper() -> None:
        try:
            while claims := leases.claim(BOOKS, limit=3, now=clock.now(),
                                         owner=threading.current_thread().name,
                                         trigger="sweep"):
                run.run(BOOKS, claims)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweeper, name=name) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    assert not overlaps
    assert built_by["a"] and built_by["b"], "both sweepers should have taken work"
    assert Book.objects.filter(status=Book.Status.READY, needs_work=False).count() == 40
    assert Attempt.objects.filter(kind="book", outcome="converged").count() == 40
