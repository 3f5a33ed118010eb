"""Per-user books (records.models.Book, training.models.Book): one leased row per user,
rebuilt from that user's activities. What their apps share is here: the claim statements,
the flag raised in a change's own transaction, the bounded look for books behind the code
or missing, and the re-sync. Each app names its model, its table, its version and what
counts as an input (work imports no app: they are passed in)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import (
    Case,
    Exists,
    F,
    OuterRef,
    PositiveIntegerField,
    PositiveSmallIntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Least

from work import kinds

#: Lease up to %(limit)s due books nobody holds, fresh before backfill, longest pending
#: first (the table's partial pending index). Books newer than this code builds are left
#: to newer workers (a partial deploy).
CLAIM_DUE = """
UPDATE {table}
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM {table}
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NULL
          AND version <= %({version})s
        ORDER BY priority, pending_since
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease one orphan (its holder died), alone (the table's partial leased index).
CLAIM_ORPHAN = """
UPDATE {table}
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM {table}
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NOT NULL
          AND version <= %({version})s
        ORDER BY due_at
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease the book %(row_id)s if it is due.
CLAIM_ONE = """
UPDATE {table}
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id = %(row_id)s AND needs_work AND due_at <= %(now)s
   AND version <= %({version})s
RETURNING id, generation, attempts
"""


def statements(table: str, version: str) -> kinds.Statements:
    """The claim statements of the books in `table`, whose code version is the claim's
    parameter `version` (the kernel fills `{lock}`)."""
    def named(sql: str) -> str:
        return sql.replace("{table}", table).replace("{version}", version)

    return kinds.Statements(due=named(CLAIM_DUE), orphan=named(CLAIM_ORPHAN),
                            one=named(CLAIM_ONE))


def register(*, name: str, key: str, label: str, model, table: str,
             version: Callable[[], int], run: Callable, doing: str,
             runbook: str = "rebuilding-records.md") -> kinds.Kind:
    """Register a kind of per-user book with the kernel: `table`'s claim statements with
    the parameter `<key>_version` (books newer than this code are left to newer workers),
    a book's error and dead fields, CAIRN_RECORDS_BATCH books a round, the usual attempts
    and backoff; `version()` is the code's version, reported as `key`."""
    param = f"{key}_version"
    return kinds.register(kinds.Kind(
        name=name, label=label, model=model, statements=statements(table, param),
        doing=doing,
        max_attempts=lambda: settings.CAIRN_MAX_ATTEMPTS,
        backoff=lambda: (settings.CAIRN_BACKOFF_BASE_S, settings.CAIRN_BACKOFF_CAP_S),
        error_fields=lambda code, message: {"error_code": code, "error_message": message},
        # Shown as given up on, with why; a re-sync revives it.
        dead_fields=lambda now: {"status": model.Status.DEAD},
        run=run,
        batch=lambda: settings.CAIRN_RECORDS_BATCH,
        params=lambda: {param: version()},
        versions=lambda: {key: version()},
        runbook=runbook,
    ))


def sweep(kind: kinds.Kind, flag: Callable[..., int], *, now: datetime, owner: str,
          limit: int | None = None) -> int:
    """Flag books behind (`flag`), then lease due books and build each (tests, the
    benchmarks); returns how many were flagged or leased."""
    from work import leases, run
    from work.models import Attempt

    flagged = flag(now=now)
    taken = leases.claim(kind, limit=limit or kind.batch(), now=now, owner=owner,
                         trigger=Attempt.Trigger.SWEEP)
    run.run(kind, taken)
    return flagged + len(taken)


def mark(model, user_ids: Iterable[int], *, now: datetime, fresh: bool = True,
         due_now: bool = False) -> None:
    """Say these users' books need work, creating the rows they lack.

    Fresh work (an upload, an edit, a delete) is due now and goes first. A rebuilt
    activity (a rollout) is backfill and waits CAIRN_RECORDS_COALESCE_S, so that one whole
    build takes in many rebuilt activities. A book already pending keeps its place, or
    moves up; every call bumps the generation, so that a worker building it now goes round
    once more instead of marking it done. A dead book waits for a re-sync. `due_now`:
    backfill that has nothing to wait for (a version bump).
    """
    ids = sorted(set(user_ids))
    if not ids:
        return
    priority = model.Priority.FRESH if fresh else model.Priority.BACKFILL
    wait = 0 if fresh or due_now else settings.CAIRN_RECORDS_COALESCE_S
    due = now + timedelta(seconds=wait)
    with transaction.atomic():  # the caller's, or its own (a rollout's batch)
        model.objects.bulk_create(
            [model(user_id=i, due_at=due, pending_since=now, priority=priority) for i in ids],
            ignore_conflicts=True)
        rows = model.objects.filter(user_id__in=ids).exclude(status=model.Status.DEAD)
        # Lock in one order, so that two transactions flagging the same users cannot
        # deadlock.
        locked = list(rows.select_for_update().order_by("user_id").values_list("id", flat=True))
        idle = Q(needs_work=False)
        model.objects.filter(id__in=locked).update(
            needs_work=True, generation=F("generation") + 1,
            pending_since=Case(When(idle, then=Value(now)), default=F("pending_since")),
            priority=Case(When(idle, then=Value(priority)),
                          default=Least(F("priority"), Value(priority)),
                          output_field=PositiveSmallIntegerField()),
            # A leased row's due_at is its lease expiry: left alone (its holder goes round
            # again when it settles, seeing the new generation).
            due_at=Case(When(lease_token__isnull=False, then=F("due_at")),
                        When(idle, then=Value(due)),
                        default=Least(F("due_at"), Value(due))),
            attempts=Case(When(idle & Q(lease_token__isnull=True), then=Value(0)),
                          default=F("attempts"), output_field=PositiveIntegerField()),
        )


class Seen:
    """When this process last found nothing to flag, and where its look for missing
    books has got to (tests reset it)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.idle_since: float | None = None
        self.after = 0  # the next window of users starts after this id
        self.quiet = True  # nothing found since the windows last wrapped around


def flag_outdated(model, seen: Seen, *, now: datetime, batch: int, version: int,
                  has_inputs: Callable[[], QuerySet], look_every_s: float,
                  users_per_look: int) -> int:
    """Flag up to `batch` books behind `version` and create up to `batch` missing ones
    (backfill priority, due now) among the next window of `users_per_look` users: those
    for whom `has_inputs()` (a query of activities with `owner=OuterRef("pk")`) finds
    one; returns how many. Skipped for `look_every_s` once every window has been looked
    at and nothing was found: a bump needs a deploy, so after the first empty look the
    answer rarely changes."""
    if seen.idle_since is not None and time.monotonic() - seen.idle_since < look_every_s:
        return 0
    behind = list(model.objects.filter(version__lt=version, needs_work=False)
                  .exclude(status=model.Status.DEAD)
                  .values_list("user_id", flat=True)[:batch])
    missing, wrapped = _missing(model, seen, batch=batch, has_inputs=has_inputs,
                                users_per_look=users_per_look)
    found = behind + missing
    mark(model, found, now=now, fresh=False, due_now=True)
    seen.quiet = seen.quiet and not found
    seen.idle_since = None
    if wrapped:  # a whole cycle of windows looked at
        if seen.quiet:
            seen.idle_since = time.monotonic()
        seen.quiet = True
    return len(found)


def _missing(model, seen: Seen, *, batch: int, has_inputs: Callable[[], QuerySet],
             users_per_look: int) -> tuple[list[int], bool]:
    """Users of the next window who have inputs and no book (up to `batch`), and whether
    the windows wrapped around after it. The window bounds the book side too, so that
    the planner reads a range of both indexes, not all of either (a window moves on at
    each look and wraps around: a look is a few index ranges whatever the number of
    users)."""
    # The window starts at the next user there is (an index probe), so that a gap in the
    # ids (users deleted, ids handed out elsewhere) costs no empty looks.
    first = (get_user_model().objects.filter(pk__gt=seen.after).order_by("pk")
             .values_list("pk", flat=True).first())
    if first is None:
        seen.after = 0
        return [], True
    start = first - 1
    end = start + users_per_look
    has_book = model.objects.filter(user=OuterRef("pk"), user__gt=start, user__lte=end)
    missing = list(get_user_model().objects.filter(pk__gt=start, pk__lte=end)
                   .filter(Exists(has_inputs()), ~Exists(has_book))
                   .order_by("pk").values_list("pk", flat=True)[:batch])
    if len(missing) == batch:  # more may follow in this window: go on from the last
        seen.after = missing[-1]
        return missing, False
    last = get_user_model().objects.order_by("-pk").values_list("pk", flat=True).first()
    if last is None or end >= last:
        seen.after = 0
        return missing, True
    seen.after = end
    return missing, False


#: Users flagged per transaction by a re-sync.
RESYNC_BATCH = 5000


def resync(model, user_ids: Iterable[int], *, now: datetime) -> int:
    """Flag these users' books for a whole rebuild (creating missing ones), dead ones
    revived, behind fresh work, in batches; returns how many users."""
    ids = sorted(set(user_ids))
    for start in range(0, len(ids), RESYNC_BATCH):
        batch = ids[start:start + RESYNC_BATCH]
        with transaction.atomic():
            model.objects.filter(user_id__in=batch, status=model.Status.DEAD).update(
                status=model.Status.QUEUED, needs_work=False, attempts=0, error_code="",
                error_message="")
            mark(model, batch, now=now, fresh=False, due_now=True)
            model.objects.filter(user_id__in=batch).update(whole=True)
    return len(ids)


def users_of(model, activities: QuerySet, *, every: bool, dead: bool) -> list[int]:
    """The users a `resync --deriver` selection of books names: everyone (--all), the dead
    books' users (--dead), else the owners of the selected activities."""
    if every:
        return list(get_user_model().objects.values_list("pk", flat=True))
    if dead:
        return list(model.objects.filter(status=model.Status.DEAD)
                    .values_list("user_id", flat=True))
    return list(activities.values_list("owner_id", flat=True).distinct())
