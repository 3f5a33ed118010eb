"""Sharing's rows: an owner's privacy settings (zones, trims, and the version that every
change of them bumps), and each shared activity's public copy, a leased derived row built
from the activity's track and those settings (sharing.build)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from work.models import Leased


class Privacy(models.Model):
    """An owner's privacy settings. `version` is bumped in the transaction of every change
    of zones or trims; a public copy is served only if it was built from this version."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="privacy")
    version = models.PositiveIntegerField(default=1)
    trim_start_m = models.PositiveIntegerField(default=0)
    trim_end_m = models.PositiveIntegerField(default=0)
    #: The visibility a new activity takes once it is first processed (sharing.flags).
    default_visibility = models.CharField(max_length=8, default="private", db_default="private")

    def __str__(self) -> str:
        return f"privacy of user {self.user_id} (v{self.version})"


class Zone(models.Model):
    """A circle no shared output shows a point inside."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="privacy_zones")
    lat = models.FloatField()
    lon = models.FloatField()
    radius_m = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"zone {self.pk} of user {self.user_id}"


class PublicCopy(Leased):
    """What others may read of one shared activity: its route, playback, charts, preview
    and track (for the GPX export) with the owner's zones and trims cut out, and the
    privacy version it was built from. Rebuilt by the kind `public` (sharing.kind)
    whenever the activity's track, its visibility or its owner's privacy changes."""

    class Status(models.TextChoices):
        QUEUED = "queued"  #: not built yet, or being rebuilt
        READY = "ready"  #: built (served while its privacy version is the owner's)
        WITHDRAWN = "withdrawn"  #: the activity is private or deleted: outputs removed
        DEAD = "dead"  #: given up on after CAIRN_MAX_ATTEMPTS failures

    activity = models.OneToOneField("activities.Activity", on_delete=models.CASCADE,
                                    related_name="public_copy")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="public_copies")
    #: sharing.build.VERSION of the code that built it (0: never built).
    version = models.PositiveIntegerField(default=0)
    #: The owner's Privacy.version its outputs were cut with (0: none stored).
    privacy_version = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    #: The outputs (JSON as bytes; the preview SVG; core.track encoding of the cut track).
    route = models.BinaryField(null=True)
    playback = models.BinaryField(null=True)
    charts = models.BinaryField(null=True)
    preview = models.BinaryField(null=True)
    track = models.BinaryField(null=True)
    #: The bounding box of what is shown (the shared summary's `bbox`), and points hidden.
    bbox = models.JSONField(null=True, blank=True)
    hidden_points = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The claim (work.userbooks.CLAIM_DUE's statements) and drift: version-free.
            models.Index(fields=["priority", "pending_since"], name="public_pending",
                         include=["due_at"], condition=Q(needs_work=True)),
            # Leases in flight and orphans.
            models.Index(fields=["due_at"], name="public_leased",
                         condition=Q(needs_work=True, lease_token__isnull=False)),
            # Dead copies (the kernel's default filter), counted by drift and /metrics.
            models.Index(fields=["id"], name="public_dead",
                         condition=Q(needs_work=False, attempts__gt=0)),
        ]

    def __str__(self) -> str:
        return f"public copy of activity {self.activity_id}"


class PublicHeat(Leased):
    """An owner's public heatmap: their public, counted activities' cut routes (the public
    copies', never the tracks) drawn per region (core.heatmap), and the privacy version it
    was built from. Rebuilt by the kind `public_heat` (sharing.kind) whenever the owner's
    privacy changes, a public copy is stored or withdrawn, or a visibility changes; served
    only while its privacy version is the owner's (sharing.served)."""

    class Status(models.TextChoices):
        QUEUED = "queued"  #: not built yet, or being rebuilt
        READY = "ready"  #: built (served while its privacy version is the owner's)
        DEAD = "dead"  #: given up on after CAIRN_MAX_ATTEMPTS failures

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="public_heat")
    #: sharing.heat.VERSION of the code that built it (0: never built).
    version = models.PositiveIntegerField(default=0)
    #: The owner's Privacy.version the copies it was drawn from were cut with (0: none).
    privacy_version = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    #: core.heatmap.Heat (None: no public route to draw).
    heat = models.BinaryField(null=True, blank=True)
    #: How many public copies it was drawn from.
    routes = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # The claim (work.userbooks.CLAIM_DUE's statements) and drift: version-free.
            models.Index(fields=["priority", "pending_since"], name="public_heat_pending",
                         include=["due_at"], condition=Q(needs_work=True)),
            # Leases in flight and orphans.
            models.Index(fields=["due_at"], name="public_heat_leased",
                         condition=Q(needs_work=True, lease_token__isnull=False)),
            # Dead heatmaps (the kernel's default filter), counted by drift and /metrics.
            models.Index(fields=["id"], name="public_heat_dead",
                         condition=Q(needs_work=False, attempts__gt=0)),
        ]

    def __str__(self) -> str:
        return f"public heatmap of user {self.user_id}"
