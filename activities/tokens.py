"""API tokens: made at random, stored as a SHA-256, looked up by that hash, and the
lookups remembered per process for a few seconds (CAIRN_TOKEN_CACHE_S). A user has at most
CAIRN_MAX_API_TOKENS of them."""

from __future__ import annotations

import copy
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from activities import caps
from activities.models import ApiToken

PREFIX = "cairn_"
#: Record use at most this often: a write per request would cost more than it tells.
LAST_USED_EVERY = timedelta(minutes=1)


def create(user: AbstractBaseUser) -> str:
    """A new token for `user`; the only time the token itself is seen. caps.Reached when
    the user has CAIRN_MAX_API_TOKENS already."""
    token = PREFIX + secrets.token_urlsafe(32)
    limit = settings.CAIRN_MAX_API_TOKENS
    with transaction.atomic():
        caps.hold(user)
        if ApiToken.objects.filter(user=user).count() >= limit:
            raise caps.Reached(f"You have {limit} API tokens, the most one account may have: "
                               "revoke one you no longer use to make another.")
        ApiToken.objects.create(user=user, key_hash=_hash(token), prefix=token[:12])
    return token


def authenticate(token: str) -> AbstractBaseUser | None:
    """The active user the token belongs to, or None. A token found is trusted for
    CAIRN_TOKEN_CACHE_S without asking the database again; one not found is asked about
    every time (a new token works at once)."""
    if not token.startswith(PREFIX):
        return None
    key_hash = _hash(token)
    now = timezone.now()
    found = CACHE.get(key_hash, now=now)
    if found is None:
        row = next(iter(ApiToken.objects.select_related("user").filter(key_hash=key_hash)[:1]),
                   None)
        if row is None or not row.user.is_active:
            return None
        found = CACHE.put(key_hash, Found(token_id=row.pk, user=row.user,
                                          last_used_at=row.last_used_at), now=now)
    if found.last_used_at is None or now - found.last_used_at > LAST_USED_EVERY:
        ApiToken.objects.filter(pk=found.token_id).update(last_used_at=now)
        found.last_used_at = now
    # A copy: a view may set attributes on request.user, and the next request must not see them.
    return copy.copy(found.user)


def revoke(user: AbstractBaseUser, token_id: int) -> bool:
    """Delete one of the user's tokens (False: no such token of theirs). This process
    refuses it at once; the others once their cached lookup expires."""
    key_hash = ApiToken.objects.filter(id=token_id, user=user).values_list(
        "key_hash", flat=True).first()
    if key_hash is None:
        return False
    ApiToken.objects.filter(id=token_id).delete()
    CACHE.forget(key_hash)
    return True


def revoke_all(user: AbstractBaseUser) -> int:
    """Delete every token of the user; how many there were. Refused at once by this
    process, by the others once their cached lookups expire (CAIRN_TOKEN_CACHE_S)."""
    hashes = list(ApiToken.objects.filter(user=user).values_list("key_hash", flat=True))
    ApiToken.objects.filter(user=user).delete()
    for key_hash in hashes:
        CACHE.forget(key_hash)
    return len(hashes)


@dataclass
class Found:
    token_id: int
    user: AbstractBaseUser
    last_used_at: datetime | None


class Cache:
    """Token lookups of this process, by hash, each for CAIRN_TOKEN_CACHE_S (by
    timezone.now(), so that tests move it with a frozen clock)."""

    #: Beyond this many tokens the cache starts again empty: a bound, not an LRU (a
    #: process sees a handful of clients' tokens in a few seconds).
    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.entries: dict[str, tuple[datetime, Found]] = {}

    def get(self, key_hash: str, *, now: datetime) -> Found | None:
        entry = self.entries.get(key_hash)
        if entry is None or entry[0] <= now:
            return None
        return entry[1]

    def put(self, key_hash: str, found: Found, *, now: datetime) -> Found:
        ttl = settings.CAIRN_TOKEN_CACHE_S
        if ttl > 0:
            if len(self.entries) >= self.MAX_ENTRIES:
                self.entries = {}
            self.entries[key_hash] = (now + timedelta(seconds=ttl), found)
        return found

    def forget(self, key_hash: str) -> None:
        self.entries.pop(key_hash, None)


CACHE = Cache()


def _hash(token: str) -> str:
    # Tokens carry 256 bits of randomness, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(token.encode()).hexdigest()
