"""What spans a user's activities, as leased derived rows: one Book per user (records,
totals and the heatmap). Each attempt to build it is in the one attempt log
(work.Attempt, kind "book")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from work.models import Leased


class Book(Leased):
    """One user's records, totals and heatmap, and the state of building them.

    `needs_work` is set in the same transaction as whatever changes the inputs (an
    activity settled, an edit of sport, a delete: records.flags); the sweep claims the row
    with the kernel's lease, fence and attempts (records.kind, records.rebuild).
    """

    class Status(models.TextChoices):
        #: Never built yet, or waiting for a rebuild after a failure.
        QUEUED = "queued"
        #: Built from the activities as they were when it was last built.
        READY = "ready"
        #: Given up on after CAIRN_MAX_ATTEMPTS failures; `resync --deriver records` revives.
        DEAD = "dead"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                related_name="record_book")
    #: records.rebuild.VERSION of the code that built it (0: never built).
    version = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    #: The next build is whole, whatever changed (a re-sync asked).
    whole = models.BooleanField(default=False)
    #: core.records.Book as JSON (records, totals, what it was built from).
    data = models.JSONField(null=True, blank=True)
    #: core.heatmap.Heat (counts per pixel, per region) and the PNG of its main region.
    heat = models.BinaryField(null=True, blank=True)
    heatmap_png = models.BinaryField(null=True, blank=True)

    class Meta:
        indexes = [
            # The claim (work.userbooks.CLAIM_DUE) and drift's pending counts: version-free.
            models.Index(fields=["priority", "pending_since"], name="book_pending",
                         include=["due_at"], condition=Q(needs_work=True)),
            # Leases in flight and orphans: the claim takes expired ones first
            # (work.userbooks.CLAIM_ORPHAN).
            models.Index(fields=["due_at"], name="book_leased",
                         condition=Q(needs_work=True, lease_token__isnull=False)),
            # Books behind the code (records.outdated: "version < V AND NOT needs_work"),
            # looked for every minute by each sweeper: a probe that normally finds none,
            # not a read of every user's book.
            models.Index(fields=["version"], name="book_by_version"),
            # Dead books (the kernel's default: "NOT needs_work AND attempts > 0"), counted
            # by drift and /metrics at every scrape: only the dead are in it, so the count
            # reads none of the settled books.
            models.Index(fields=["id"], name="book_dead",
                         condition=Q(needs_work=False, attempts__gt=0)),
        ]

    def __str__(self) -> str:
        return f"records of user {self.user_id}"
