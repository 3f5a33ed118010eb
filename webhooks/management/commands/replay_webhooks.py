"""`replay_webhooks`: dead webhook deliveries are owed again (the admin action's twin)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from webhooks import outbox
from webhooks.models import Delivery
from work import clock


class Command(BaseCommand):
    help = "Replay dead webhook deliveries: all of them, one subscription's, or by id."

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="Every dead delivery.")
        parser.add_argument("--subscription", type=int, help="Dead deliveries of this "
                            "subscription (webhook or push subscription) id.")
        parser.add_argument("--ids", nargs="+", type=int, help="These delivery ids.")

    def handle(self, *args, all, subscription, ids, **options):
        if not (all or subscription or ids):
            raise CommandError("Say what to replay: --all, --subscription ID or --ids ...")
        selected = Delivery.objects.all()
        if subscription:
            selected = selected.filter(subscription_id=subscription)
        if ids:
            selected = selected.filter(id__in=ids)
        n = outbox.replay(selected, now=clock.now())
        self.stdout.write(json.dumps({"replayed": n}))
