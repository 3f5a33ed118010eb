"""A user's training data: the thresholds they set (a dated history), and the training
book built from them and their activities, as leased derived rows: one Book per user, its
per-activity loads (ActivityLoad) and its days (Day). Each attempt to build it is in the
one attempt log (work.Attempt, kind "training")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from work.models import Leased


class Threshold(models.Model):
    """One value of one threshold, in force from `effective` until the next of its kind
    (core.training.thresholds.value_on). One per kind and day: a second on the same day
    replaces the first."""

    class Kind(models.TextChoices):
        FTP = "ftp", "functional threshold power (W)"
        LTHR = "lthr", "lactate threshold heart rate (bpm)"
        HR_REST = "hr_rest", "resting heart rate (bpm)"
        HR_MAX = "hr_max", "maximum heart rate (bpm)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="thresholds")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    value = models.PositiveSmallIntegerField()
    effective = models.DateField(help_text="The first day it is in force.")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "effective"],
                                    name="threshold_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.value} from {self.effective} (user {self.user_id})"


class Book(Leased):
    """One user's training book and the state of building it.

    `needs_work` is set in the same transaction as whatever changes its inputs (an
    activity settled, an edit of sport, a delete, a threshold, the profile: training.flags);
    the sweep claims the row with the kernel's lease, fence and attempts (training.kind,
    training.rebuild), which writes its ActivityLoad and Day rows under the fence.
    """

    class Status(models.TextChoices):
        QUEUED = "queued"
        READY = "ready"
        #: Given up on after CAIRN_MAX_ATTEMPTS failures; `resync --deriver training` revives.
        DEAD = "dead"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="training_book")
    #: training.rebuild.VERSION of the code that built it (0: never built).
    version = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    #: The next build recomputes every load and day, whatever changed (a re-sync asked).
    whole = models.BooleanField(default=False)
    #: The all-time power curve: [[duration_s, watts, activity_id], ...].
    curve = models.JSONField(default=list, blank=True)
    #: Totals per gear: {"<gear id>": [count, distance in dm, moving time in ds]}, integer
    #: sums of the activities' own (ActivityLoad), exact in any order.
    gear = models.JSONField(default=dict, blank=True)
    #: What the loads were last built from besides the activities (training.inputs.basis:
    #: time zone, thresholds, the profile's maximum heart rate); {} before the first build.
    basis = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "training_book"
        indexes = [
            # The claim (work.userbooks.CLAIM_DUE) and drift's pending counts.
            models.Index(fields=["priority", "pending_since"], name="training_pending",
                         include=["due_at"], condition=Q(needs_work=True)),
            # Orphans (work.userbooks.CLAIM_ORPHAN).
            models.Index(fields=["due_at"], name="training_leased",
                         condition=Q(needs_work=True, lease_token__isnull=False)),
            # Books behind the code (training.outdated).
            models.Index(fields=["version"], name="training_by_version"),
            # Dead books (the kernel's default dead filter), counted by drift and /metrics.
            models.Index(fields=["id"], name="training_dead",
                         condition=Q(needs_work=False, attempts__gt=0)),
        ]

    def __str__(self) -> str:
        return f"training book of user {self.user_id}"


class ActivityLoad(models.Model):
    """One activity's load, as the training book last built it, with the inputs it was
    built from (`signature`): a rebuild recomputes only the activities whose signature
    moved. `activity_id` is no foreign key: a deleted activity's row outlives the
    activity until the book's rebuild removes it, so that the rebuild still knows its
    day (the series restarts from there)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="activity_loads")
    activity_id = models.BigIntegerField(unique=True)
    #: The activity's day (its start in the owner's time zone): its load counts on it.
    #: None without timestamps (no load; its distance still counts for its gear).
    day = models.DateField(null=True)
    sport = models.CharField(max_length=64, blank=True)
    #: training.inputs.Input.signature: the track's and summary's contents (digests), the
    #: sport, the day and the thresholds in force on it.
    signature = models.JSONField()
    #: TSS points (core.training.load), or None and `reason`.
    load = models.FloatField(null=True)
    source = models.CharField(max_length=16, blank=True)
    reason = models.CharField(max_length=32, blank=True)
    normalized_w = models.FloatField(null=True)
    intensity = models.FloatField(null=True)
    #: Mean-maximal power: [[duration_s, watts, start_offset_s], ...] ([] without power).
    curve = models.JSONField(default=list)
    #: The summary's distance and moving time in tenths (dm, ds): gear totals sum them.
    distance_dm = models.BigIntegerField(default=0)
    moving_ds = models.BigIntegerField(default=0)

    class Meta:
        indexes = [
            # A user's loads by day: the rebuild's read, the 90-day power curve.
            models.Index(fields=["user", "day"], name="activity_load_by_day"),
        ]

    def __str__(self) -> str:
        return f"load of activity {self.activity_id}"


class Day(models.Model):
    """One day of a user's fitness series (core.training.fitness.Day): the values shown,
    rounded, and the exact state a rebuild from the next day resumes from."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="training_days")
    date = models.DateField()
    load = models.FloatField()
    fitness = models.FloatField()
    fatigue = models.FloatField()
    form = models.FloatField()
    fitness_state = models.FloatField()
    fatigue_state = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="training_day_one_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} of user {self.user_id}"
