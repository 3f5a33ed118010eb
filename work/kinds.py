"""The registry of kinds of reconciled work. A kind is a spec, not a copy of the loop: its
table, its complete claim statements, its attempts and backoff, what giving up writes,
and `run(lease) -> outcome`. The sweep, drift, metrics, the admin and the commands go
over `ALL` (apps register their kinds in their AppConfig.ready)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import Model, Q

if TYPE_CHECKING:
    from work.leases import Lease
    from work.outcomes import Outcome


@dataclass(frozen=True, kw_only=True)
class Statements:
    """A kind's claim, one complete named statement each; work.leases runs them. Every one
    sets the lease and counts the attempt in the statement that takes the row, and returns
    `id, generation, attempts`. `{lock}` stands for the database's row lock clause
    (FOR UPDATE SKIP LOCKED on PostgreSQL; nothing on SQLite, whose IMMEDIATE
    transactions serialise writers). Parameters: token, owner, expires, now, limit (or
    row_id), and the kind's `params()`."""

    #: Lease up to %(limit)s due rows that nobody holds. It may share them among owners:
    #: then it reads %(after)s (the owner after which this process's last claim of the
    #: kind stopped) and returns each row's owner as a fourth column, and the kernel
    #: moves the cursor (work.leases.CURSORS; reconciler.derivation.kind.CLAIM_DUE is such a one).
    due: str
    #: `due` on SQLite, when PostgreSQL's cannot run there (LATERAL); None: the same.
    due_sqlite: str | None = None
    #: Lease one orphan (a row whose lease expired: its holder died), alone. None: the
    #: kind takes orphans with the rest in `due` (its `due` does not ask for no lease).
    orphan: str | None = None
    #: Lease the row %(row_id)s if it is due (a nudge, an inline run, a command).
    one: str | None = None
    #: A probe run before `due` (parameters: now and the kind's `params()`): no row back
    #: means nothing is due, and `due` is not run. For a `due` whose planning costs more
    #: than an idle round should (the activities' claim shared among owners). None: none.
    gate: str | None = None


@dataclass(frozen=True, kw_only=True)
class Kind:
    #: Short and stable: it names the kind in the attempt log, metrics, drift and logs.
    name: str
    #: What the rows are, for people: "upload sessions".
    label: str
    model: type[Model]
    statements: Statements
    #: What its worker does, in a sentence: "taking this file in".
    doing: str
    #: Attempts (leases taken) before a row is dead; None: never given up on.
    max_attempts: Callable[[], int | None]
    #: (base_s, cap_s) of the one backoff policy: capped exponential with jitter.
    backoff: Callable[[], tuple[float, float]]
    #: The kind's columns for a reason code and a sentence.
    error_fields: Callable[[str, str], dict]
    #: What else a dead row records (its status), given the time it is given up on.
    dead_fields: Callable[[datetime], dict] = lambda now: {}
    #: What else a row released still needing work records (an activity is "queued").
    due_fields: Callable[[], dict] = dict
    #: Its rows, when it shares its table with another kind: ORM filters the kernel adds
    #: to its own reads (bury, claim_one); its statements say the same in SQL.
    scope: dict = field(default_factory=dict)
    #: The work of one leased row. Whatever it raises becomes that row's outcome.
    run: Callable[[Lease], Outcome] | None = None
    #: A kind whose rows are run elsewhere claims and hands them out itself (webhook
    #: deliveries go to their own threads, which run and release each): the sweep calls
    #: sweep(now=, owner=) -> rows leased, instead of claiming `batch` rows and running
    #: them in its own thread.
    sweep: Callable[..., int] | None = None
    #: Or the work of a batch of leased rows, released by the kind itself in one statement
    #: (work.leases.release_batch); the attempt's outcome by row id.
    run_batch: Callable[[list[Lease]], dict[int, str]] | None = None
    #: Leased only in a sweep round where no kind before it filled its batch (work that
    #: may wait for a quiet moment: a rollout's preview).
    when_idle: bool = False
    #: Rows leased per claim.
    batch: Callable[[], int] = lambda: 10
    #: Extra parameters of its statements.
    params: Callable[[], dict] = dict
    #: The versions of what this process's code produces, kept on each attempt.
    versions: Callable[[], dict] = dict
    #: What brings a dead row back, as its sentence says it ("it is replayed").
    replayed: str = "it is replayed"
    #: The runbook page (under runbooks/) for when its rows do not converge.
    runbook: str = ""
    #: Which rows of its table are this kind's, when kinds share a table (activities to
    #: derive, activities to delete): drift, metrics, the admin and `replay` narrow to it.
    rows: Callable[[], Q] = Q
    #: Its rows given up on, as a filter one of its indexes serves (drift counts them, the
    #: admin lists them, `replay` revives them). By default what the kernel leaves on a
    #: dead row: no work wanted and its attempts kept (a settled row's count is cleared).
    dead: Callable[[], Q] = lambda: Q(needs_work=False, attempts__gt=0)
    #: Its rows failed permanently (a Failed outcome), likewise; None: it keeps none apart.
    failed: Callable[[], Q] | None = None
    #: What else a replayed row's own fields become (its status back to the start).
    revived: Callable[[datetime], dict] = lambda now: {}

    def __str__(self) -> str:
        return self.name

    @property
    def runs(self) -> bool:
        """Whether the sweep has anything to run for it."""
        return self.run is not None or self.run_batch is not None


ALL: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Add a kind (idempotent for the same name: apps may be readied twice in tests)."""
    ALL[kind.name] = kind
    return kind


def get(name: str) -> Kind:
    return ALL[name]
