"""Lease renewal while a batch is derived, so that a slow file is never taken from a live
worker."""

from __future__ import annotations

import threading
from types import TracebackType

import structlog
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from reconciler.derivation.kind import KIND
from work import clock, leases
from work.leases import Lease

log = structlog.get_logger(__name__)


class Renewal:
    """Renew every lease of a batch a third of a lease apart, from one thread, for the
    duration of a `with` block. `lost` holds the activity ids whose lease was found gone:
    their holder stops work on them and throws their results away."""

    def __init__(self, claims: list[Lease], *, every_s: float | None = None) -> None:
        self.claims = list(claims)
        self.every_s = every_s if every_s is not None else settings.CAIRN_LEASE_S / 3
        self.lost: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lease-renewal", daemon=True)

    def __enter__(self) -> Renewal:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every_s):
                if not self._renew():
                    return
        finally:
            connection.close()  # the thread's own connection

    def _renew(self) -> bool:
        """False once every lease is gone (nothing left to renew)."""
        alive = [c for c in self.claims if c.row_id not in self.lost]
        try:
            with transaction.atomic():
                held = leases.hold_many(KIND, alive, now=clock.now())
        except DatabaseError as error:
            # The database may be back before the leases run out: keep trying.
            log.warning("lease.renew_failed", activities=len(alive), error=str(error))
            connection.close()
            return True
        for claim in alive:
            if claim.row_id not in held:
                self.lost.add(claim.row_id)
                log.warning("lease.lost", activity_id=claim.row_id,
                            lease_token=claim.token)
        return len(self.lost) < len(self.claims)
