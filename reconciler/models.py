"""The reconciler's own records: version rollouts (with their previews and kept outputs),
workers and tallies. Attempts are the kernel's one log (work.models.Attempt)."""

from __future__ import annotations

from django.db import models

from activities.models import Activity
from work.models import Leased


class Rollout(models.Model):
    """A deriver version being rolled out over existing activities, a batch at a time.

    The cursor walks activity ids upwards; each batch flags the activities whose output
    of `deriver` is older than `version` (or absent). This keeps version numbers out of
    the claim's index (DESIGN.md). `state` is what the operator controls (`rollout`
    command, staff page); every change of it is one conditional UPDATE (rollouts.ops).
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


class PreviewSample(Leased):
    """One activity of a rollout's preview sample: computed once into ShadowOutputs, under
    a lease like any reconciled work (the kind "preview", reconciler.rollouts.preview_kind)."""

    rollout = models.ForeignKey(Rollout, on_delete=models.CASCADE, related_name="samples")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="+")
    #: "<sport>/<format>", or "named" for an id the operator asked for.
    stratum = models.CharField(max_length=80)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rollout", "activity"],
                                               name="preview_sample_once")]
        indexes = [
            # Samples still to compute, by rollout in id order: the preview kind's claim
            # (reconciler.rollouts.preview_kind), orphans and due alike.
            models.Index(fields=["rollout", "id"], name="preview_sample_pending",
                         condition=models.Q(needs_work=True)),
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
