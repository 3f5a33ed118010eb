"""Caps on what one user holds at once (API tokens, open upload sessions): counted, then
added to, under a lock on the user's row, so that requests sent together cannot pass a cap
between one's count and its insert."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser


class Reached(Exception):
    """The user holds as many as the cap allows: a sentence saying what to do."""


def hold(owner: AbstractBaseUser) -> None:
    """Lock the owner's row until the current transaction ends (call it inside
    transaction.atomic, before counting). On PostgreSQL the owner's concurrent requests take
    turns here; on SQLite every write transaction takes turns already (BEGIN IMMEDIATE).
    NO KEY UPDATE: rows referring to the user (an upload's insert) do not wait on it."""
    users = get_user_model().objects.select_for_update(no_key=True)
    list(users.filter(pk=owner.pk).values_list("pk", flat=True))
