"""Webhook deliveries as a kind of reconciled work (work.kinds): its claim statements and
its spec. The sweep's step is webhooks.outbox.deliver (claim here, post on the delivery
threads, which release each delivery); webhooks.outbox.run is one delivery's work."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from webhooks import outbox
from webhooks.models import Delivery
from work import kinds

#: Lease up to %(limit)s due deliveries nobody holds, oldest first: the partial index
#: delivery_pending. %(busy)s is "|a|b|", the destinations this process is posting to
#: (outbox.busy): their deliveries wait for that job. LIKE may take a "_" in a name for
#: any character: at worst another destination waits one round, never a double post.
#: %(resting)s is "|1|7|", the owners who hold a whole share of the delivery threads or
#: have posted a minute's deliveries (outbox.deliver): theirs wait.
CLAIM_DUE = """
UPDATE webhooks_delivery
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM webhooks_delivery
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NULL
          AND %(busy)s NOT LIKE '%%|' || destination || '|%%'
          AND %(resting)s NOT LIKE '%%|' || (SELECT s.owner_id FROM webhooks_subscription AS s
                                              WHERE s.id = subscription_id) || '|%%'
        ORDER BY priority, pending_since
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease one orphan (its worker died mid-post), alone: delivery_pending.
CLAIM_ORPHAN = """
UPDATE webhooks_delivery
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id IN (
       SELECT id FROM webhooks_delivery
        WHERE needs_work AND due_at <= %(now)s AND lease_token IS NOT NULL
          AND %(busy)s NOT LIKE '%%|' || destination || '|%%'
        ORDER BY due_at
        LIMIT %(limit)s
        {lock})
RETURNING id, generation, attempts
"""

#: Lease the delivery %(row_id)s if it is due.
CLAIM_ONE = """
UPDATE webhooks_delivery
   SET lease_token = %(token)s, lease_owner = %(owner)s, lease_expires_at = %(expires)s,
       due_at = %(expires)s, attempts = attempts + 1
 WHERE id = %(row_id)s AND needs_work AND due_at <= %(now)s
RETURNING id, generation, attempts
"""


def _error(code: str, message: str) -> dict:
    return {"last_error": message}


def _dead(now: datetime) -> dict:
    # Listed as dead (API, admin, drift) until replayed (outbox.replay).
    return {"status": Delivery.Status.DEAD}


KIND = kinds.register(kinds.Kind(
    name="delivery",
    label="webhook deliveries",
    model=Delivery,
    statements=kinds.Statements(due=CLAIM_DUE, orphan=CLAIM_ORPHAN, one=CLAIM_ONE),
    doing="posting this event",
    max_attempts=lambda: settings.CAIRN_WEBHOOK_MAX_ATTEMPTS,
    backoff=lambda: (settings.CAIRN_WEBHOOK_BACKOFF_BASE_S,
                     settings.CAIRN_WEBHOOK_BACKOFF_CAP_S),
    error_fields=_error,
    dead_fields=_dead,
    run=outbox.run,
    sweep=outbox.deliver,
    batch=lambda: settings.CAIRN_WEBHOOK_BATCH,
    params=lambda: {"busy": outbox.busy(), "resting": "||"},
    runbook="webhooks-failing.md",
))
