"""Segments as reconciled data: a Segment (a stretch of road drawn once, leased while its
owner's past activities are matched against it), the cells that index it, one
ActivityMatch per activity (leased while the activity is matched against the segments
near it: the row that says it was matched at core.segments.match.VERSION) and the
Efforts those matches found. Each attempt is in the one attempt log (work.Attempt, kinds
"segment" and "segment_match")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from activities.models import Activity
from work.models import Leased


class Segment(Leased):
    """One segment and the state of its backfill: needs work from its creation until every
    activity its owner had then was matched against it (segments.backfill), a chunk of
    activities per lease, `backfill_after` the cursor (an ActivityMatch id)."""

    class Status(models.TextChoices):
        #: Its owner's activities are still being matched against it.
        MATCHING = "matching"
        READY = "ready"
        #: Given up on after CAIRN_MAX_ATTEMPTS failures; `resync --deriver segments` or a
        #: replay revives it.
        DEAD = "dead"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="segments")
    name = models.CharField(max_length=255)
    #: [[lat, lon, elevation or null], ...] in order (core.segments.shape.Segment).
    points = models.JSONField()
    polyline = models.TextField()
    distance_m = models.FloatField()
    ascent_m = models.FloatField(null=True)
    min_lat = models.FloatField()
    min_lon = models.FloatField()
    max_lat = models.FloatField()
    max_lon = models.FloatField()
    #: core.segments.cells.start_cell: the one cell it is indexed under (SegmentCell).
    start_cell = models.BigIntegerField()
    created_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.MATCHING)
    #: The backfill's cursor: ActivityMatch rows up to this id were looked at.
    backfill_after = models.BigIntegerField(default=0)
    backfilled_at = models.DateTimeField(null=True, blank=True)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        indexes = [
            # The claim (segments.kind.SEGMENT_DUE) and drift's pending counts.
            models.Index(fields=["priority", "pending_since"], name="segment_pending",
                         include=["due_at"], condition=Q(needs_work=True)),
            # Orphans (segments.kind.SEGMENT_ORPHAN).
            models.Index(fields=["due_at"], name="segment_leased",
                         condition=Q(needs_work=True, lease_token__isnull=False)),
            # Dead backfills (the kernel's default dead filter), counted by drift.
            models.Index(fields=["id"], name="segment_dead",
                         condition=Q(needs_work=False, attempts__gt=0)),
            # An owner's segments, newest first (the API's list).
            models.Index(fields=["owner", "-id"], name="segment_owner_list"),
        ]

    def __str__(self) -> str:
        return f"segment {self.pk} ({self.name})"


class SegmentCell(models.Model):
    """The spatial index: a segment under its start's cell (core.segments.cells), with its
    owner, so that the segments near a track are one index probe per cell of its path
    (owner, cell) on any database."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    cell = models.BigIntegerField()
    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="cells")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "cell", "segment"],
                                    name="segment_cell_unique"),
        ]

    def __str__(self) -> str:
        return f"cell {self.cell}: segment {self.segment_id}"


class ActivityMatch(Leased):
    """One activity matched against its owner's segments near it. Flagged in the
    transaction of whatever changes the answer (a new or re-derived track:
    segments.flags), behind the code when `version` < core.segments.match.VERSION
    (segments.outdated). Its bounding box lets a new segment's backfill skip the
    activities that pass nowhere near it without reading their tracks."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        READY = "ready"
        DEAD = "dead"

    activity = models.OneToOneField(Activity, on_delete=models.CASCADE,
                                    related_name="segment_match")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    #: core.segments.match.VERSION of the matcher that last matched it (0: never).
    version = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    #: Of the track's usable positions when last matched; null without any.
    min_lat = models.FloatField(null=True)
    min_lon = models.FloatField(null=True)
    max_lat = models.FloatField(null=True)
    max_lon = models.FloatField(null=True)
    matched_at = models.DateTimeField(null=True, blank=True)
    #: Segments read as candidates, and efforts found, when last matched.
    candidates = models.PositiveIntegerField(default=0)
    efforts = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["priority", "pending_since"], name="segment_match_pending",
                         include=["due_at"], condition=Q(needs_work=True)),
            models.Index(fields=["due_at"], name="segment_match_leased",
                         condition=Q(needs_work=True, lease_token__isnull=False)),
            models.Index(fields=["id"], name="segment_match_dead",
                         condition=Q(needs_work=False, attempts__gt=0)),
            # Matches behind the code (segments.outdated: a probe that normally finds none).
            models.Index(fields=["version"], name="segment_match_by_version"),
            # A backfill's walk through its owner's activities (segments.backfill).
            models.Index(fields=["owner", "id"], name="segment_match_owner"),
        ]

    def __str__(self) -> str:
        return f"segment match of activity {self.activity_id}"


class Effort(models.Model):
    """One passage of an activity over a segment (core.segments.effort.Effort); `lap`
    counts them within the activity, in the order ridden. Its rank is read, not stored
    (segments.served): a delete or a better effort moves every rank at once."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="efforts")
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE,
                                 related_name="segment_efforts")
    lap = models.PositiveSmallIntegerField()
    start_index = models.PositiveIntegerField()
    end_index = models.PositiveIntegerField()
    start_offset_s = models.FloatField()
    end_offset_s = models.FloatField()
    elapsed_s = models.FloatField()
    moving_s = models.FloatField()
    average_speed_mps = models.FloatField()
    average_hr = models.FloatField(null=True)
    average_power = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "activity", "lap"],
                                    name="effort_one_per_lap"),
        ]
        indexes = [
            # A segment's efforts best first (the API's pages) and each one's rank (a
            # count of the faster ones).
            models.Index(fields=["segment", "elapsed_s", "id"], name="effort_best"),
            models.Index(fields=["activity"], name="effort_by_activity"),
        ]

    def __str__(self) -> str:
        return f"effort of activity {self.activity_id} on segment {self.segment_id}"
