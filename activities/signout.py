"""Signing out everywhere: every API token of the user revoked and every browser session
of theirs ended but the one asking, for when a password or a token may have leaked."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.models import Session
from django.utils import timezone

from activities import tokens


@dataclass(frozen=True)
class Ended:
    tokens: int
    sessions: int


def everywhere(user: AbstractBaseUser, *, keep: str | None) -> Ended:
    """Revoke all of the user's tokens and end their sessions but `keep` (a session key)."""
    return Ended(tokens=tokens.revoke_all(user), sessions=_end_sessions(user, keep=keep))


def _end_sessions(user: AbstractBaseUser, *, keep: str | None) -> int:
    # Sessions are signed blobs in the database, not rows by user: each live one is read.
    # A rare action, and one session row per signed-in browser, so the scan is affordable.
    theirs = [s.session_key for s in Session.objects.filter(
        expire_date__gt=timezone.now()).exclude(session_key=keep or "").iterator()
        if s.get_decoded().get(SESSION_KEY) == str(user.pk)]
    Session.objects.filter(session_key__in=theirs).delete()
    return len(theirs)
