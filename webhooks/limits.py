"""What one user may ask of the outbound side: webhooks (CAIRN_WEBHOOKS_PER_USER), push
challenges in flight at once (CAIRN_PUSH_CHALLENGES_PER_USER), deliveries posted a minute
(CAIRN_WEBHOOK_DELIVERIES_PER_MINUTE). Each is counted in the database, so that every
process of every host sees the same count."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Q, Value, When

from webhooks.models import Challenge, DeliveryWindow, Subscription
from work import clock

#: The delivery rate's window: fixed, from the first delivery after the last one ended.
WINDOW = timedelta(minutes=1)
#: A challenge slot older than this was left by a process that died mid-challenge (a
#: challenge lasts its deadline, seconds).
CHALLENGE_STALE = timedelta(minutes=1)


class TooMany(Exception):
    """The user is at a limit; the message says which, in a sentence."""


def check_webhooks(owner: AbstractBaseUser, *, lock: bool = False) -> None:
    """Raise TooMany if the owner has CAIRN_WEBHOOKS_PER_USER webhooks. With `lock`, inside
    the transaction that makes the next one: the owner's row is locked first (PostgreSQL;
    SQLite serialises writers), so concurrent requests cannot all pass at the last place."""
    cap = settings.CAIRN_WEBHOOKS_PER_USER
    if not cap:
        return
    if lock:
        list(type(owner).objects.select_for_update().filter(pk=owner.pk).values_list("pk"))
    if Subscription.objects.filter(owner=owner, kind=Subscription.Kind.WEBHOOK).count() >= cap:
        raise TooMany(f"At most {cap} webhooks per user: delete one to add another.")


@contextlib.contextmanager
def challenge_slot(owner: AbstractBaseUser) -> Iterator[None]:
    """Hold one of the owner's CAIRN_PUSH_CHALLENGES_PER_USER challenge slots while the
    block runs, or raise TooMany at once if every one is taken."""
    now = clock.now()
    for slot in range(settings.CAIRN_PUSH_CHALLENGES_PER_USER):
        if _take_slot(owner.pk, slot, now=now):
            break
    else:
        raise TooMany("A callback of yours is being checked already: wait for its answer "
                      "before asking again.")
    try:
        yield
    finally:
        Challenge.objects.filter(owner_id=owner.pk, slot=slot, started_at=now).delete()


def _take_slot(owner_id: int, slot: int, *, now: datetime) -> bool:
    with transaction.atomic():
        Challenge.objects.filter(owner_id=owner_id, slot=slot,
                                 started_at__lt=now - CHALLENGE_STALE).delete()
        try:
            with transaction.atomic():
                Challenge.objects.create(owner_id=owner_id, slot=slot, started_at=now)
        except IntegrityError:  # taken: by a challenge in flight, or one just begun
            return False
    return True


def delivery_wait(owner_id: int, *, now: datetime) -> datetime | None:
    """Count one delivery against the owner's minute and return None; or, when the owner
    has posted CAIRN_WEBHOOK_DELIVERIES_PER_MINUTE already, count nothing and return when
    the minute ends (the delivery is due again then)."""
    limit = settings.CAIRN_WEBHOOK_DELIVERIES_PER_MINUTE
    if not limit:
        return None
    ended = Q(started_at__lte=now - WINDOW)
    rows = DeliveryWindow.objects.filter(ended | Q(count__lt=limit), owner_id=owner_id)
    counted = {"started_at": Case(When(ended, then=Value(now)), default=F("started_at")),
               "count": Case(When(ended, then=Value(1)), default=F("count") + 1)}
    # Check and count in one statement; the owner's first delivery makes the row first.
    if rows.update(**counted):
        return None
    DeliveryWindow.objects.get_or_create(owner_id=owner_id, defaults={"started_at": now})
    if rows.update(**counted):
        return None
    started = DeliveryWindow.objects.values_list("started_at", flat=True).get(
        owner_id=owner_id)
    return started + WINDOW


def limited_owners(*, now: datetime) -> set[int]:
    """The owners who have posted CAIRN_WEBHOOK_DELIVERIES_PER_MINUTE in their current
    minute (the claim leaves their deliveries for the minute after)."""
    limit = settings.CAIRN_WEBHOOK_DELIVERIES_PER_MINUTE
    if not limit:
        return set()
    return set(DeliveryWindow.objects.filter(count__gte=limit, started_at__gt=now - WINDOW)
               .values_list("owner_id", flat=True))
