"""Webhooks: who listens (subscriptions), what is owed to them (the outbox of deliveries,
leased like activities; what each try did is in the one attempt log, work.Attempt of kind
"delivery"); the database's copy of the circuit breakers."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from work.models import Leased


class Subscription(models.Model):
    """A URL that hears of one owner's uploads and activities."""

    class Kind(models.TextChoices):
        #: Standard Webhooks: signed JSON `{"type", "timestamp", "data"}`.
        WEBHOOK = "webhook"
        #: Strava's push subscription: its event shape, unsigned (Strava signs nothing).
        STRAVA = "strava"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="webhook_subscriptions")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.WEBHOOK)
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    #: `whsec_` + base64 of 32 random bytes (Standard Webhooks' form).
    secret = models.CharField(max_length=64)
    verify_token = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["owner", "kind"], name="webhook_sub_by_owner")]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} → {self.url}"


class Delivery(Leased):
    """One event owed to one subscription: the outbox row, written in the transaction of
    the change it reports and leased by the sweep until the receiver answers 2xx."""

    class Status(models.TextChoices):
        #: Waiting for its first try or a retry.
        PENDING = "pending"
        #: The receiver answered 2xx.
        DELIVERED = "delivered"
        #: CAIRN_WEBHOOK_MAX_ATTEMPTS tries failed: replay it (admin, `replay_webhooks`).
        DEAD = "dead"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="deliveries")
    #: The webhook-id header: the same on every retry, so a receiver can drop duplicates.
    message_id = models.CharField(max_length=40, unique=True)
    event = models.CharField(max_length=32)
    activity_id = models.BigIntegerField(null=True, blank=True)
    #: The exact body posted (signed as is on every try).
    body = models.TextField()
    #: scheme://host:port, the circuit breaker's key.
    destination = models.CharField(max_length=300)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        indexes = [
            # The claim (webhooks.kind.CLAIM_DUE): deliveries owed, oldest first.
            models.Index(fields=["priority", "pending_since"], name="delivery_pending",
                         condition=models.Q(needs_work=True)),
            # The API's and the admin's list of one subscription's deliveries.
            models.Index(fields=["subscription", "created_at"], name="delivery_by_sub"),
            # Drift's count of dead deliveries.
            models.Index(fields=["status"], name="delivery_dead",
                         condition=models.Q(status="dead")),
        ]

    def __str__(self) -> str:
        return f"{self.event} {self.message_id}"


class Breaker(models.Model):
    """A destination's circuit breaker when CAIRN_BROKER is not redis (every worker of
    the fleet reads and writes this one row)."""

    destination = models.CharField(max_length=300, primary_key=True)
    failures = models.PositiveIntegerField(default=0)
    #: While set and in the future: open, nobody posts there.
    open_until = models.DateTimeField(null=True, blank=True)
    #: A half-open probe is out until then (one worker's, taken by a conditional update).
    probe_until = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.destination


class Announced(models.Model):
    """The summary last announced for an activity (a digest), so that a rebuild that
    changes nothing announces nothing."""

    activity_id = models.BigIntegerField(primary_key=True)
    summary_sha = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"activity {self.activity_id}"


class Challenge(models.Model):
    """A push subscription's hub.challenge GET in flight: one row per slot of its owner's
    CAIRN_PUSH_CHALLENGES_PER_USER (webhooks/limits.py), so that every web process of
    every host counts the same ones; a slot left by a process that died is taken over
    once it is older than any challenge can last."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                              related_name="+")
    slot = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "slot"],
                                               name="challenge_one_per_slot")]

    def __str__(self) -> str:
        return f"challenge {self.slot} of {self.owner_id}"


class DeliveryWindow(models.Model):
    """An owner's deliveries posted in the current minute, for
    CAIRN_WEBHOOK_DELIVERIES_PER_MINUTE: one conditional UPDATE of this row both checks
    and counts, so that concurrent delivery threads cannot all slip under the limit."""

    owner = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 primary_key=True, related_name="+")
    started_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.count} deliveries since {self.started_at:%H:%M:%S}"
