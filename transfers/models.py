"""Upload sessions: files whose bytes go straight to the store (a presigned URL) or arrive
resumably (tus), reconciled by the sweep rather than trusted to a client's callback."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from activities.models import Upload
from work.models import Leased


class UploadSession(Leased):
    """One file on its way in. It needs work while it waits: the sweep looks in the store
    (due every CAIRN_SESSION_POLL_S, or at once after a nudge), ingests what arrived, and
    fails the session once it expired with nothing there."""

    class Via(models.TextChoices):
        #: A presigned PUT to the object store (or Cairn's own PUT on fs).
        PRESIGNED = "presigned"
        #: tus 1.0.0: chunks stored as they arrive, the offset read from the store.
        TUS = "tus"

    class Status(models.TextChoices):
        #: Waiting for the bytes (or for the sweep to find them).
        UPLOADING = "uploading"
        #: The bytes became `result` (a new upload or the one they duplicate).
        INGESTED = "ingested"
        #: Expired, too large, a hash mismatch or not an activity file: `error_message`.
        FAILED = "failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    #: What the client polls (GET /api/v1/uploads/<id>): a placeholder of kind "session".
    upload = models.OneToOneField(Upload, on_delete=models.CASCADE, related_name="session")
    via = models.CharField(max_length=12, choices=Via.choices)
    #: Storage name of the object (presigned) or of the chunks' folder (tus).
    key = models.CharField(max_length=255, unique=True)
    #: tus on s3: the store's id of the multipart upload assembling the file (empty until
    #: the first part). Recorded before any part is sent to it (transfers/parts.py).
    multipart_id = models.CharField(max_length=1024, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    #: As the client declared it: the bytes must not be more.
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64, blank=True, help_text="Declared, optional.")
    expires_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UPLOADING)
    result = models.ForeignKey(Upload, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    error_code = models.CharField(max_length=64, blank=True)
    error_message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    #: When it became ingested or failed (drift counts the sessions failed lately).
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Sessions to look at (transfers.sweep.claim): only those still uploading.
            models.Index(fields=["priority", "pending_since"], name="session_pending",
                         include=["due_at"], condition=Q(needs_work=True)),
            # Failed lately (transfers.drift): the failures only, by time.
            models.Index(fields=["settled_at"], name="session_failed",
                         condition=Q(status="failed")),
        ]

    def __str__(self) -> str:
        return f"{self.via} session {self.pk} ({self.status})"
