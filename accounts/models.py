"""Invitations: a link staff make for one person to create an account (CAIRN_SIGNUP=invite).
Only the token's SHA-256 is stored; the link is shown once, to the staff member who made it."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Invitation(models.Model):
    token_sha256 = models.CharField(max_length=64, unique=True)
    note = models.CharField(max_length=200, blank=True,
                            help_text="Who it is for (shown to staff only).")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, related_name="invitations_made")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                   null=True, blank=True, related_name="invitation")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invitation {self.id} ({self.note or 'no note'})"

    @classmethod
    def make(cls, *, by, note: str, now: datetime) -> tuple[Invitation, str]:
        """A new invitation and its token (the only time the token exists in clear)."""
        token = secrets.token_urlsafe(24)
        invitation = cls.objects.create(
            token_sha256=digest(token), note=note, created_by=by,
            expires_at=now + timedelta(days=settings.CAIRN_INVITE_DAYS))
        return invitation, token

    def state(self, now: datetime) -> str:
        if self.used_at:
            return "used"
        return "expired" if self.expires_at <= now else "open"
