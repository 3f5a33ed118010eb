"""Bulk exports: a zip of all of a user's activities, built by the sweep in steps."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from work.models import Leased


class Export(Leased):
    """One zip of a user's activities. It needs work while it is being built, once its
    expiry has come (its zip is deleted), and once its owner deleted it (the zip, then the
    row, go)."""

    class Contents(models.TextChoices):
        #: The files as uploaded, byte for byte.
        ORIGINALS = "originals"
        #: Each activity written anew from its stored track (activities.exporting).
        FILES = "files"
        BOTH = "both"

    class Status(models.TextChoices):
        PENDING = "pending"
        BUILDING = "building"
        READY = "ready"
        FAILED = "failed"
        #: Kept past CAIRN_EXPORT_KEEP_DAYS: the zip is gone, the row says so.
        EXPIRED = "expired"
        #: Its owner deleted it: hidden, its zip and then the row removed by the sweep.
        DELETED = "deleted"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    #: Random: names the staging files and the stored zip, never reused (ids are, in a
    #: database made again).
    key = models.CharField(max_length=32, unique=True)
    contents = models.CharField(max_length=10, choices=Contents.choices)
    #: The format of the regenerated files (core.writers).
    format = models.CharField(max_length=4, default="gpx")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    #: The newest activity the export covers: those uploaded later are not in it.
    last_activity_id = models.BigIntegerField(default=0)
    #: Progress: activities written into the zip so far, of `total`.
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    #: Storage name of the zip once ready ("" before, and once deleted).
    file_name = models.CharField(max_length=255, blank=True)
    size_bytes = models.PositiveBigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        indexes = [
            # Exports to build (exports.kind's claim): only those needing work.
            models.Index(fields=["priority", "pending_since"], name="export_pending",
                         include=["due_at"], condition=Q(needs_work=True)),
            # Ready zips by expiry: the claim's other half (an expired zip is due).
            models.Index(fields=["expires_at"], name="export_ready",
                         condition=Q(status="ready")),
            models.Index(fields=["owner", "created_at"], name="export_by_owner"),
        ]
        constraints = [
            # One export at a time per user being built (the API answers 409 with its id).
            models.UniqueConstraint(fields=["owner"], name="export_one_building",
                                    condition=Q(status__in=["pending", "building"])),
        ]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"
