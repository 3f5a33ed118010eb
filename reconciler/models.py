"""The reconciler's own records: attempts (a log with lease intervals) and version rollouts."""

from __future__ import annotations

from django.db import models

from activities.models import Activity


class Attempt(models.Model):
    """One worker's go at one activity, from claim to outcome.

    The lease interval [started_at, held_until] is when this worker could write; two
    attempts of one activity never overlap there (tests and the chaos run check it).
    """

    class Trigger(models.TextChoices):
        NUDGE = "nudge"
        SWEEP = "sweep"
        INLINE = "inline"
        COMMAND = "command"
        ADMIN = "admin"

    class Outcome(models.TextChoices):
        #: Every deriver's output is current.
        CONVERGED = "converged"
        #: A permanent failure: the activity is failed.
        FAILED = "failed"
        #: A transient failure: retried after backoff.
        RETRYING = "retrying"
        #: Transient failures exhausted the attempts.
        DEAD = "dead"
        #: The lease expired or was taken; this attempt's results were thrown away.
        LEASE_LOST = "lease_lost"
        #: Out of time (the inline fallback's budget): lease handed back, work left to
        #: the sweep; what was derived so far is kept.
        YIELDED = "yielded"
        #: The worker stopped (killed, out of memory, crashed) before finishing: found
        #: when its lease had run out; `ended_at` is when it ran out.
        WORKER_DIED = "worker_died"

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="attempts_log")
    trigger = models.CharField(max_length=16, choices=Trigger.choices)
    worker = models.CharField(max_length=255)
    lease_token = models.CharField(max_length=32)
    versions = models.JSONField(help_text="The deriver versions this worker's code produces.")
    started_at = models.DateTimeField()
    #: Renewed in the same transaction as the activity's lease, so that the interval is
    #: exact even for a worker killed mid-file.
    held_until = models.DateTimeField(help_text="End of the lease as last renewed.")
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True)
    derivers_run = models.JSONField(default=list)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["activity", "started_at"], name="attempt_by_activity")]

    def __str__(self) -> str:
        return f"attempt {self.pk} on activity {self.activity_id}"


class Rollout(models.Model):
    """A deriver version being rolled out over existing activities, a batch at a time.

    The cursor walks activity ids upwards; each batch flags the activities whose output
    of `deriver` is older than `version` (or absent). Finished when the cursor passes the
    last activity. This keeps version numbers out of the claim's index (DESIGN.md).
    """

    deriver = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    cursor = models.BigIntegerField(default=0)
    flagged = models.PositiveBigIntegerField(default=0)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deriver", "version"], name="rollout_once"),
        ]

    def __str__(self) -> str:
        return f"{self.deriver} v{self.version}"


class Worker(models.Model):
    """A process that reconciles (sweeper, q2 worker, inline web worker): its heartbeat.

    `drift` lists them; a worker whose code produces older deriver versions than another
    live worker's stops claiming (a partial deploy), and shows as outdated.
    """

    id = models.CharField(primary_key=True, max_length=255, help_text="host:pid")
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    versions = models.JSONField(help_text="The deriver versions its code produces.")
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField()
    last_sweep_at = models.DateTimeField(null=True, blank=True)
    last_sweep_ms = models.PositiveIntegerField(null=True, blank=True)
    last_sweep_claimed = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["last_seen"], name="worker_last_seen")]

    def __str__(self) -> str:
        return self.id


class Tally(models.Model):
    """How often something happened in one minute (nudge failures, inline fallbacks), so
    that every process's events add up in one place for the staff drift page."""

    name = models.CharField(max_length=64)
    minute = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "minute"], name="tally_once")]

    def __str__(self) -> str:
        return f"{self.name} at {self.minute:%H:%M}: {self.count}"
