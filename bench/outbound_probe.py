"""Outbound calls against receivers that answer a byte at a time, run by hand (figures for
README "Security"; no target is asserted):

    python -m bench.outbound_probe [--trickle-s 1.5] [--uploads 6]

1. `POST /api/v3/push_subscriptions` to the real `serve`, its callback trickling the
   challenge's answer: how long the request takes (the challenge's deadline is 2 s).
2. One `reconcile --loop` worker with the default delivery settings; alice has 8
   trickling receivers, bob one healthy receiver; both upload: the delay from each of
   bob's events being written to its arrival, beside the same with alice's receivers
   absent.

A fresh SQLite database in a temporary folder (or DATABASE_URL's, which it migrates).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trickle-s", type=float, default=1.5)
    parser.add_argument("--uploads", type=int, default=6)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cairn-outbound-"))
    os.environ.update(CAIRN_DATA_DIR=str(folder), CAIRN_WEBHOOK_ALLOW_NETWORKS="127.0.0.0/8",
                      CAIRN_UPLOADS_PER_MINUTE="0", CAIRN_LOG_LEVEL="warning",
                      DJANGO_SETTINGS_MODULE="settings")
    if not os.environ.get("DATABASE_URL"):
        os.environ["CAIRN_CLOCK"] = "local"
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, check=True)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    alice = users.create_user("alice-probe", password="x-probe-1")
    bob = users.create_user("bob-probe", password="x-probe-2")
    figures = {"trickle_s": args.trickle_s,
               "push_request_s": push_request_s(alice, args.trickle_s, folder)}
    print(json.dumps(figures), flush=True)
    figures |= {"alone": delays(None, bob, args.uploads, args.trickle_s),
                "beside_8_trickling": delays(alice, bob, args.uploads, args.trickle_s)}
    print(json.dumps(figures, indent=1))


def push_request_s(user, trickle_s: float, folder: Path) -> float:
    from activities import tokens
    from tests import serving
    from tests.receivers import Receiver

    callback = Receiver(trickle_s=trickle_s).start()
    served = serving.start(dict(os.environ), log=folder / "serve.log")
    try:
        request = urllib.request.Request(
            served.url("/api/v3/push_subscriptions"), method="POST",
            data=urllib.parse.urlencode({"callback_url": callback.url}).encode(),
            headers={"Authorization": f"Bearer {tokens.create(user)}"})
        started = time.monotonic()
        try:
            urllib.request.urlopen(request, timeout=600).read()
        except urllib.error.HTTPError as error:
            print("push:", error.code, error.read().decode()[:200], file=sys.stderr)
        return round(time.monotonic() - started, 2)
    finally:
        serving.stop(served)
        callback.close()


def delays(noisy, healthy_owner, uploads: int, trickle_s: float) -> dict:
    """bob's events' delays, with alice's 8 trickling receivers subscribed (or not)."""
    from django.utils import timezone

    from activities import ingest
    from tests import factories
    from tests.receivers import Receiver
    from webhooks import events
    from webhooks.models import Delivery, Subscription

    Subscription.objects.all().delete()
    trickling = [Receiver(trickle_s=trickle_s).start() for _ in range(8)] if noisy else []
    healthy = Receiver().start()
    for owner, receiver in [(noisy, r) for r in trickling] + [(healthy_owner, healthy)]:
        Subscription.objects.create(owner=owner, url=receiver.url, events=list(events.ALL),
                                    secret=events.new_secret(), created_at=timezone.now())
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "reconcile", "--loop", "--interval", "1"], cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=dict(os.environ))
    seed = int(time.time())
    try:
        for n in range(uploads):
            if noisy:
                ingest.accept(factories.gpx(points=40 + seed % 1000 + n), owner=noisy,
                              original_name=f"a{n}.gpx")
            ingest.accept(factories.gpx(points=2000 + seed % 1000 + n), owner=healthy_owner,
                          original_name=f"b{n}.gpx")
            time.sleep(2)
        deadline = time.monotonic() + 600
        while len(healthy.accepted()) < uploads and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(60)
        for receiver in [*trickling, healthy]:
            receiver.close()
    created = dict(Delivery.objects.values_list("message_id", "created_at"))
    waited = [p.at - created[p.headers["webhook-id"]].timestamp() for p in healthy.accepted()]
    return {"events": len(waited), "of": uploads,
            "delay_median_s": round(statistics.median(waited), 2) if waited else None,
            "delay_max_s": round(max(waited), 2) if waited else None,
            "trickling_posts": sum(len(r.posts()) for r in trickling)}


if __name__ == "__main__":
    main()
