"""`reconcile --once` drains due work and exits; `reconcile --loop` sweeps until stopped."""

from __future__ import annotations

import json
import signal
import time

import structlog
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, close_old_connections, connection, connections

from core import memory
from reconciler import sweep

log = structlog.get_logger(__name__)

BUSY, IDLE, FAILED = "busy", "idle", "failed"


class Command(BaseCommand):
    help = "Run the reconcile sweep once (until nothing is due) or forever."

    def add_arguments(self, parser):
        mode = parser.add_mutually_exclusive_group(required=True)
        mode.add_argument("--once", action="store_true", help="Sweep until nothing is due.")
        mode.add_argument("--loop", action="store_true", help="Sweep until SIGTERM/SIGINT.")
        parser.add_argument("--interval", type=float, default=None,
                            help="Seconds to sleep when idle (default CAIRN_SWEEP_INTERVAL_S).")
        parser.add_argument("--batch", type=int, default=None,
                            help="Activities per claim (default CAIRN_CLAIM_BATCH).")

    def handle(self, *args, once, loop, interval, batch, **options):
        if batch is not None and batch < 1:
            raise CommandError("--batch must be at least 1")
        if (limit := memory.cap(settings.CAIRN_WORKER_MEMORY_MB)) is not None:
            log.info("memory.capped", limit_mb=limit // 2**20)
        if once:
            claimed = sweep.drain(limit=batch)
            self.stdout.write(json.dumps({"claimed": claimed}))
            return
        self.shutdown = False
        signal.signal(signal.SIGTERM, self.on_signal)
        signal.signal(signal.SIGINT, self.on_signal)
        interval = settings.CAIRN_SWEEP_INTERVAL_S if interval is None else interval
        failures = 0
        while not self.shutdown:
            outcome = self.step(batch)
            failures = failures + 1 if outcome == FAILED else 0
            if outcome == IDLE:
                self.sleep(interval)
            elif outcome == FAILED:
                # The database is restarting: back off 1, 2, 4, 8, 10 s and go on; leases
                # held meanwhile simply expire and are taken again.
                self.sleep(min(10, 2 ** (failures - 1)))

    def step(self, batch: int | None) -> str:
        """One sweep round: BUSY, IDLE or FAILED. Never raises: a row's failure is that
        row's outcome (work.run), and whatever else goes wrong in a round (the database
        restarting, a bug in one step) is logged and the loop goes on after a pause."""
        try:
            close_old_connections()
            _name_connection()
            return BUSY if sweep.sweep_once(limit=batch).found_work else IDLE
        except DatabaseError as error:
            log.warning("sweep.failed", error=str(error))
            connections.close_all()
            return FAILED
        except Exception as error:  # noqa: BLE001 (the loop outlives any one round)
            log.exception("sweep.crashed", error=f"{type(error).__name__}: {error}")
            return FAILED

    def on_signal(self, signum, frame):
        self.shutdown = True  # finish the activity in hand, then stop

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while not self.shutdown and time.monotonic() < deadline:
            time.sleep(min(0.2, seconds))


def _name_connection() -> None:
    # Lets an operator find sweepers in pg_stat_activity.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET application_name = 'cairn-reconcile'")
