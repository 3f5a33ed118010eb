"""The reconciler's own records: attempts (a log with lease intervals), version rollouts
(with their previews and kept outputs), workers and tallies."""

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
    of `deriver` is older than `version` (or absent). This keeps version numbers out of
    the claim's index (DESIGN.md). `state` is what the operator controls (`rollout`
    command, staff page); every change of it is one conditional UPDATE (rollout_ops).
    """

    class State(models.TextChoices):
        #: The new code computes a sample into shadow outputs; users see the old outputs.
        PREVIEW = "preview"
        #: Promoted: the backfill flags old outputs (at most `throttle_per_min`).
        RUNNING = "running"
        #: Promoted, stopped: nothing more is flagged and old outputs count as current.
        PAUSED = "paused"
        #: Rolling back: the sweep restores the kept previous outputs, a batch a round.
        ROLLING_BACK = "rolling_back"
        #: Rolled back: the previous outputs are current again; promote to try again.
        ROLLED_BACK = "rolled_back"
        #: Backfill complete; previous outputs kept until an operator runs `finish`.
        DONE = "done"
        #: Finished: previous outputs dropped; outputs older than `version` are rebuilt.
        FINISHED = "finished"

    deriver = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.RUNNING)
    #: Keep each overwritten output (KeptOutput) until `finish`, so rollback restores it.
    keep_previous = models.BooleanField(default=False)
    cursor = models.BigIntegerField(default=0)
    flagged = models.PositiveBigIntegerField(default=0)
    #: Activities flagged per minute at most (None: as fast as the sweep goes).
    throttle_per_min = models.PositiveIntegerField(null=True, blank=True)
    #: The current minute's window of the throttle and what it has flagged so far.
    window_start = models.DateTimeField(null=True, blank=True)
    window_count = models.PositiveIntegerField(default=0)
    #: When the preview's sample was chosen (once).
    sampled_at = models.DateTimeField(null=True, blank=True)
    #: When it was last promoted, and how many old outputs there were then (the ETA).
    promoted_at = models.DateTimeField(null=True, blank=True)
    old_at_promote = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["deriver", "version"], name="rollout_once"),
        ]

    def __str__(self) -> str:
        return f"{self.deriver} v{self.version}"


class RolloutAction(models.Model):
    """Who changed a rollout's state, when, and to what (the admin and timelines show it)."""

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="actions")
    action = models.CharField(max_length=16)
    by = models.CharField(max_length=150, help_text="An operator, or `sweep` / `deploy`.")
    at = models.DateTimeField()
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16, blank=True)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [models.Index(fields=["rollout", "at"], name="rollout_action_at")]

    def __str__(self) -> str:
        return f"{self.action} of {self.rollout} by {self.by}"


class PreviewSample(models.Model):
    """One activity of a rollout's preview sample: computed once into ShadowOutputs."""

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="samples")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    #: "<sport>/<format>", or "named" for an id the operator asked for.
    stratum = models.CharField(max_length=80)
    #: Who computes it and until when (a crashed computer's sample is taken over after).
    leased_until = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rollout", "activity"],
                                               name="preview_sample_once")]
        indexes = [
            # Samples still to compute (reconciler.previews.compute).
            models.Index(fields=["rollout"], name="preview_sample_pending",
                         condition=models.Q(computed_at__isnull=True)),
        ]

    def __str__(self) -> str:
        return f"sample {self.activity_id} of {self.rollout}"


class ShadowOutput(models.Model):
    """A deriver's output under the new code for one sample: never shown to users."""

    sample = models.ForeignKey(PreviewSample, on_delete=models.CASCADE, related_name="outputs")
    deriver = models.CharField(max_length=32)
    status = models.CharField(max_length=8)  # Derived.Status.READY or FAILED
    data = models.BinaryField(null=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sample", "deriver"],
                                               name="shadow_output_once")]

    def __str__(self) -> str:
        return f"shadow {self.deriver} of {self.sample}"


class KeptOutput(models.Model):
    """An output as it was before a rollout overwrote it, byte for byte, so that a
    rollback can restore it; dropped by `rollout finish`."""

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="kept")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    deriver = models.CharField(max_length=32)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=8)
    data = models.BinaryField(null=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rollout", "activity", "deriver"],
                                               name="kept_output_once")]

    def __str__(self) -> str:
        return f"kept {self.deriver} v{self.version} of activity {self.activity_id}"


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
