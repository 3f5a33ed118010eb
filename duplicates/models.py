"""Probable duplicates, as reconciled rows: one Check per user (leased like a book: the
kernel's claim, fence and attempts), each activity's Footprint (when and where it was
recorded, from its track), and the pairs their owner said to keep both of."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from work.models import Leased


class Check(Leased):
    """One user's duplicates check and the state of running it.

    `needs_work` is set in the transaction that changes its inputs (an activity's track
    settled with new bytes, a deletion, a "keep both": duplicates.flags); the run writes
    footprints and each activity's `duplicate_of` under the fence (duplicates.check)."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        READY = "ready"
        #: Given up on after CAIRN_MAX_ATTEMPTS failures; `resync --deriver duplicates`.
        DEAD = "dead"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="duplicates_check")
    #: duplicates.check.VERSION of the code that ran it (0: never).
    version = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    #: The next run recomputes every footprint (a re-sync asked).
    whole = models.BooleanField(default=False)
    #: Pairs found by the last run: [[kept, duplicate], ...].
    pairs = models.JSONField(default=list, blank=True)

    class Meta:
        db_table = "duplicates_check"
        indexes = [
            models.Index(fields=["priority", "pending_since"], name="duplicates_pending",
                         include=["due_at"], condition=Q(needs_work=True)),
            models.Index(fields=["due_at"], name="duplicates_leased",
                         condition=Q(needs_work=True, lease_token__isnull=False)),
            models.Index(fields=["version"], name="duplicates_by_version"),
            models.Index(fields=["id"], name="duplicates_dead",
                         condition=Q(needs_work=False, attempts__gt=0)),
        ]

    def __str__(self) -> str:
        return f"duplicates check of user {self.user_id}"


class Footprint(models.Model):
    """When and where one activity was recorded (core.duplicates.Footprint), with the
    track it was made from (its digest): made again only when the track's bytes move.
    `activity_id` is no foreign key: a deleted activity's footprint outlives it until
    the next run removes it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="footprints")
    activity_id = models.BigIntegerField(unique=True)
    #: The track's Derived.digest (null: stored before digests were kept).
    track_digest = models.BinaryField(max_length=16, null=True)
    start = models.FloatField(help_text="First timestamp, epoch seconds.")
    end = models.FloatField(help_text="Last timestamp, epoch seconds.")
    #: What it recorded besides time: "power", "hr", "gps" (the primary has the most).
    streams = models.JSONField(default=list)
    points = models.PositiveIntegerField(default=0)
    #: Sampled times, latitudes and longitudes (duplicates.footprints.encode).
    data = models.BinaryField()

    class Meta:
        indexes = [models.Index(fields=["user", "start"], name="footprint_user_start")]

    def __str__(self) -> str:
        return f"footprint of activity {self.activity_id}"


class KeptPair(models.Model):
    """Two activities their owner said are not one (Keep both): never paired again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="kept_pairs")
    first_id = models.BigIntegerField()
    second_id = models.BigIntegerField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first_id", "second_id"],
                                               name="kept_pair_once")]

    def __str__(self) -> str:
        return f"activities {self.first_id} and {self.second_id} kept apart"
