"""The chaos run's webhook subscriber: a live receiver that fails every other answer, and
the count of what it got (every upload's upload.ready event, at least once)."""

from __future__ import annotations

import json
import time
import urllib.request

from tests.receivers import Receiver

#: The fleet's webhook settings for the run: receivers on loopback, quick retries, a
#: short cool-down (a run of failures opens the breaker), attempts enough for 50 % failures.
ENV = {"CAIRN_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8", "CAIRN_WEBHOOK_BACKOFF_BASE_S": "0.5",
       "CAIRN_WEBHOOK_BACKOFF_CAP_S": "5", "CAIRN_WEBHOOK_BREAKER_COOLDOWN_S": "2",
       "CAIRN_WEBHOOK_MAX_ATTEMPTS": "40"}


def subscribe(*, port: int, token: str) -> Receiver:
    """Start the receiver and subscribe it to upload.ready through the API."""
    receiver = Receiver(fail_every_other=True).start()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/webhooks", method="POST",
        data=json.dumps({"url": receiver.url, "events": ["upload.ready"]}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    return receiver


def missing(receiver: Receiver, activity_ids: list[int]) -> list[int]:
    """The activities whose upload.ready the receiver has not accepted yet."""
    got = {r.json()["data"]["activity_id"] for r in receiver.accepted()}
    return sorted(set(activity_ids) - got)


def wait(receiver: Receiver, activity_ids: list[int], *, timeout: float) -> dict:
    deadline = time.time() + timeout
    while missing(receiver, activity_ids) and time.time() < deadline:
        time.sleep(0.5)
    accepted = receiver.accepted()
    return {"webhook_events_lost": len(missing(receiver, activity_ids)),
            "webhook_posts": len(receiver.posts()),
            "webhook_posts_refused_by_subscriber": len(receiver.posts()) - len(accepted),
            "webhook_redelivered": len(accepted) - len({r.headers["webhook-id"]
                                                        for r in accepted})}
