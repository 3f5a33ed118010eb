"""Standard Webhooks headers for one try of one delivery, signed with the standardwebhooks
package: the webhook-id stays the same on every retry, the timestamp is this try's."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from webhooks.models import Delivery


def headers(delivery: Delivery) -> dict[str, str]:
    # The receiver's clock judges the timestamp (five minutes' tolerance): the real time
    # of this try, never a frozen or database one.
    sent = datetime.fromtimestamp(int(time.time()), tz=UTC)
    signature = Webhook(delivery.subscription.secret).sign(
        msg_id=delivery.message_id, timestamp=sent, data=delivery.body)
    return {"Content-Type": "application/json", "webhook-id": delivery.message_id,
            "webhook-timestamp": str(int(sent.timestamp())), "webhook-signature": signature}
