"""The kernel's rows: the fields every leased table carries, and the one attempt log."""

from __future__ import annotations

from django.db import models


class Leased(models.Model):
    """What the sweep needs on a row it claims: whether it needs work, when it is due, and
    who holds its lease. Its lease fields are written by the kernel alone (work.leases);
    the row's creator sets the first values, the kind's own code everything else."""

    class Priority(models.IntegerChoices):
        FRESH = 0, "fresh"  #: new uploads and explicit re-syncs go first
        BACKFILL = 1, "backfill"  #: version rollouts and bulk re-syncs

    needs_work = models.BooleanField(default=True)
    #: Bumped whenever the wanted state changes (re-sync, rollout, nudge); a release clears
    #: needs_work only if the generation it claimed is still current.
    generation = models.PositiveIntegerField(default=1)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices,
                                                default=Priority.FRESH)
    #: When the row may next be claimed: now for new work, the lease expiry while
    #: leased, the backoff time while retrying, the time to look again while waiting.
    due_at = models.DateTimeField()
    #: When it last started needing work (set whenever needs_work becomes true).
    pending_since = models.DateTimeField(null=True, blank=True)
    lease_owner = models.CharField(max_length=255, blank=True)
    lease_token = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001 (no lease)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    #: Counted when a lease is taken (a worker that dies holding it has used one), kept
    #: by a transient failure, given back by a wait, cleared by a settled result.
    attempts = models.PositiveIntegerField(default=0, help_text="Failed attempts in a row.")
    #: The trace of whoever asked for this work (W3C traceparent; "" untraced), continued
    #: by every worker that claims the row (work.tracing). A database default, so that
    #: statements written in SQL need not name it.
    trace_parent = models.CharField(max_length=55, blank=True, default="", db_default="")

    class Meta:
        abstract = True


class Attempt(models.Model):
    """One worker's go at one row of one kind of work, from its lease to its outcome.

    The lease interval [started_at, held_until] is when this worker could write; two
    attempts on one row never overlap there (tests and the chaos run check it).
    """

    class Trigger(models.TextChoices):
        NUDGE = "nudge"
        SWEEP = "sweep"
        INLINE = "inline"
        COMMAND = "command"
        ADMIN = "admin"

    class Outcome(models.TextChoices):
        #: The work is done: the row is at the state wanted.
        CONVERGED = "converged"
        #: A permanent failure: a reason code and a sentence, not retried until asked.
        FAILED = "failed"
        #: A transient failure: counted, retried after backoff.
        RETRYING = "retrying"
        #: Not counted: waiting for something outside (the store, a breaker, bytes).
        WAITING = "waiting"
        #: Transient failures (or worker deaths) used up the kind's attempts.
        DEAD = "dead"
        #: The lease expired or was taken; this attempt's results were thrown away.
        LEASE_LOST = "lease_lost"
        #: Out of time: lease handed back, the rest left to the sweep; what was done is
        #: kept.
        YIELDED = "yielded"
        #: The worker stopped (killed, out of memory, crashed) before releasing: found
        #: when its lease had run out; `ended_at` is when it ran out.
        WORKER_DIED = "worker_died"

    #: The registered kind's name (work.kinds) and the row's id in its table.
    kind = models.CharField(max_length=24)
    row_id = models.BigIntegerField()
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    worker = models.CharField(max_length=255)
    lease_token = models.CharField(max_length=32)
    versions = models.JSONField(default=dict, blank=True,
                                help_text="The code versions this worker produces.")
    started_at = models.DateTimeField()
    #: Renewed in the same transaction as the row's lease, so that the interval is exact
    #: even for a worker killed mid-way.
    held_until = models.DateTimeField(help_text="End of the lease as last renewed.")
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    #: What the kind says of this attempt (derivers run, a book's mode, a POST's status).
    detail = models.JSONField(default=dict, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        indexes = [
            # One row's timeline (explain, the staff timeline, deletion) and the attempts
            # a dead holder left open (work.attempts.close_died).
            models.Index(fields=["kind", "row_id", "started_at"], name="attempt_by_row"),
        ]

    def __str__(self) -> str:
        return f"attempt {self.pk} on {self.kind} {self.row_id}"
