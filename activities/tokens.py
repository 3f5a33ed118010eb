"""API tokens: made at random, stored as a SHA-256, looked up by that hash."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from activities.models import ApiToken

PREFIX = "cairn_"


def create(user: AbstractBaseUser) -> str:
    """A new token for `user`; the only time the token itself is seen."""
    token = PREFIX + secrets.token_urlsafe(32)
    ApiToken.objects.create(user=user, key_hash=_hash(token), prefix=token[:12])
    return token


def authenticate(token: str) -> AbstractBaseUser | None:
    """The active user the token belongs to, or None."""
    if not token.startswith(PREFIX):
        return None
    found = (ApiToken.objects.select_related("user").filter(key_hash=_hash(token)).first())
    if found is None or not found.user.is_active:
        return None
    now = timezone.now()
    # Record use at most once a minute: a write per request would cost more than it tells.
    if found.last_used_at is None or (now - found.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
    return found.user


def _hash(token: str) -> str:
    # Tokens carry 256 bits of randomness, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(token.encode()).hexdigest()
