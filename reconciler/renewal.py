"""Lease renewal while a deriver runs, so that a slow file is never taken from a live worker."""

from __future__ import annotations

import threading
from types import TracebackType

import structlog
from django.conf import settings
from django.db import DatabaseError, connection, transaction

from reconciler import clock, leases
from reconciler.leases import Claim, LeaseLost

log = structlog.get_logger(__name__)


class Renewal:
    """Renew the claim's lease every third of a lease from a thread, for the duration of
    a `with` block. `lost` is set when a renewal finds the lease gone: the holder then
    stops and throws its results away."""

    def __init__(self, claim: Claim, *, every_s: float | None = None) -> None:
        self.claim = claim
        self.every_s = every_s if every_s is not None else settings.CAIRN_LEASE_S / 3
        self.lost = threading.Event()
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
        try:
            with transaction.atomic():
                leases.hold(self.claim, now=clock.now())
        except LeaseLost:
            self.lost.set()
            log.warning("lease.lost", activity_id=self.claim.activity_id,
                        lease_token=self.claim.token)
            return False
        except DatabaseError as error:
            # The database may be back before the lease runs out: keep trying.
            log.warning("lease.renew_failed", activity_id=self.claim.activity_id,
                        error=str(error))
            connection.close()
        else:
            log.debug("lease.renewed", activity_id=self.claim.activity_id)
        return True
