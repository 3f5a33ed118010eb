"""Delivering the outbox: the sweep leases due deliveries (the delivery kind,
webhooks.kind: attempts counted at the claim, one fence) and posts them on this process's
small thread pool, one job per destination, so that neither a hanging receiver nor the
posting itself holds up deriving activities or other receivers. Each job releases each
delivery with what came of its POST (work.run.settle, under the fence)."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import structlog
from django.conf import settings
from django.db import connection
from django.db.models import QuerySet

from webhooks import breaker, destinations, metrics, signing, transport
from webhooks.models import Delivery, Subscription
from work import clock, kinds, leases
from work import run as work_run
from work.models import Attempt
from work.outcomes import Done, Outcome, Retry, Wait

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Job:
    lease: leases.Lease
    delivery: Delivery


class Pool:
    """This process's delivery threads and the destinations they are posting to (by pid:
    a forked worker starts its own)."""

    def __init__(self) -> None:
        self.pid = 0
        self.lock = threading.Lock()

    def ensure(self) -> None:
        if self.pid != os.getpid():
            self.pid = os.getpid()
            self.executor = ThreadPoolExecutor(max(settings.CAIRN_WEBHOOK_CONCURRENCY, 1),
                                               thread_name_prefix="webhooks")
            self.busy: set[str] = set()

    def submit(self, destination: str, jobs: list[Job]) -> None:
        # The threads are joined when the process exits (concurrent.futures does), so
        # `reconcile --once` posts what it leased before it ends.
        with self.lock:
            self.busy.add(destination)
            self.executor.submit(_run, destination, jobs)

    def done(self, destination: str) -> None:
        with self.lock:
            self.busy.discard(destination)


POOL = Pool()


def busy() -> str:
    """The destinations this process's threads are posting to, as the claim's %(busy)s
    parameter ("|a|b|"): one job per destination per process, so their deliveries wait
    for the job that holds them (webhooks.kind.CLAIM_DUE)."""
    with POOL.lock:
        held = sorted(POOL.busy) if POOL.pid == os.getpid() else []
    return "|" + "".join(f"{destination}|" for destination in held)


def deliver(*, now: datetime, owner: str) -> int:
    """Lease due deliveries and start posting them; returns how many were leased at once
    (the posting goes on in this process's delivery threads, or here when
    CAIRN_WEBHOOK_CONCURRENCY is 0). The delivery kind's step of the sweep."""
    # Read first: a sweep that finds nothing owed takes no write lock (SQLite) at all.
    if not Delivery.objects.filter(needs_work=True, due_at__lte=now).exists():
        return 0
    POOL.ensure()
    kind = _kind()
    taken = leases.claim(kind, limit=kind.batch(), now=now, owner=owner,
                         trigger=Attempt.Trigger.SWEEP)
    if not taken:
        return 0
    rows = Delivery.objects.select_related("subscription").in_bulk([t.row_id for t in taken])
    by_destination: dict[str, list[Job]] = {}
    for lease in taken:
        row = rows[lease.row_id]
        by_destination.setdefault(row.destination, []).append(Job(lease, row))
    for destination, jobs in by_destination.items():
        if settings.CAIRN_WEBHOOK_CONCURRENCY == 0:
            _post_all(destination, jobs)
        else:
            POOL.submit(destination, jobs)
    return len(taken)


def _run(destination: str, jobs: list[Job]) -> None:
    """A delivery thread's job: its own database connection, closed when done."""
    try:
        _post_all(destination, jobs)
    except Exception:  # a bug or the database: the leases run out and the sweep retries
        log.exception("webhook.job_failed", destination=destination)
    finally:
        POOL.done(destination)
        connection.close()


def _post_all(destination: str, jobs: list[Job]) -> None:
    """Post one destination's deliveries in order, releasing each, until one fails, the
    breaker says wait, or the budget is spent; those not posted are given back without
    spending an attempt (work.leases.give_back)."""
    deadline = time.monotonic() + settings.CAIRN_WEBHOOK_BUDGET_S
    kind = _kind()
    for n, job in enumerate(jobs):
        try:
            outcome = attempt(job.delivery)
        except Exception as error:  # noqa: BLE001 (this delivery's outcome)
            log.exception("webhook.crashed", delivery_id=job.delivery.id,
                          error=f"{type(error).__name__}: {error}")
            outcome = work_run.crashed(kind, error)
        if isinstance(outcome, Wait):  # the breaker: this one and the rest wait untried
            metrics.DELIVERIES.labels(outcome="breaker_open").inc()
            hand_back(jobs[n:], due_at=outcome.until)
            return
        label = work_run.settle(kind, job.lease, outcome)
        _posted(job, outcome, label)
        if not isinstance(outcome, Done) or time.monotonic() > deadline:
            hand_back(jobs[n + 1:], due_at=clock.now())
            return


def run(lease: leases.Lease) -> Outcome:
    """The delivery kind's work on one leased delivery (as the threads do it)."""
    return attempt(Delivery.objects.select_related("subscription").get(id=lease.row_id))


def attempt(delivery: Delivery) -> Outcome:
    """One try of one delivery, if its destination's breaker lets it go: a Wait until the
    breaker may let it (not a try: no attempt spent), else what the POST came to."""
    now = clock.now()
    decision = breaker.breakers().allow(delivery.destination, now=now)
    if not decision.go:
        return Wait(until=decision.retry_at or now, reason="BreakerOpen")
    return post(delivery, probe=decision.probe)


def post(delivery: Delivery, *, probe: bool = False) -> Outcome:
    """POST one delivery and tell the destination's breaker: Done if the receiver took
    it, else Retry (after the webhook backoff; dead after CAIRN_WEBHOOK_MAX_ATTEMPTS).
    The attempt's detail keeps the status code and the duration."""
    try:
        target = destinations.parse(delivery.subscription.url)
        answer = transport.request("POST", target, body=delivery.body.encode(),
                                   headers=signing.headers(delivery),
                                   timeout_s=settings.CAIRN_WEBHOOK_TIMEOUT_S)
    except destinations.Refused as refused:
        answer, code = transport.Answer(None, str(refused), b"", 0), "Refused"
    else:
        # Only a try that reached out tells the breaker anything (a refused address is
        # our rule, not the receiver's health).
        breaker.breakers().record(delivery.destination, ok=answer.ok, probe=probe,
                                  now=clock.now())
        code = "NoAnswer" if answer.status is None else "ReceiverError"
    detail = {"status_code": answer.status, "duration_ms": answer.duration_ms}
    if answer.ok:
        return Done(fields={"status": Delivery.Status.DELIVERED, "delivered_at": clock.now(),
                            "last_error": ""}, detail=detail)
    return Retry(code, answer.error or f"The receiver answered {answer.status}.",
                 detail=detail)


def _posted(job: Job, outcome: Outcome, label: str) -> None:
    shown = "delivered" if label == Attempt.Outcome.CONVERGED else label
    metrics.DELIVERIES.labels(outcome=shown).inc()
    log.info("webhook.posted", delivery_id=job.delivery.id,
             destination=job.delivery.destination,
             status_code=outcome.detail.get("status_code"),
             error=getattr(outcome, "message", ""), outcome=shown,
             duration_ms=outcome.detail.get("duration_ms"), attempt=job.lease.attempts)
    if label == Attempt.Outcome.DEAD:
        log.warning("webhook.dead", delivery_id=job.delivery.id, attempts=job.lease.attempts)


def hand_back(jobs: list[Job], *, due_at: datetime) -> None:
    """Give leases back unposted: the attempt the claim counted is returned (a delivery
    that waits for a breaker or its turn has not been tried)."""
    leases.give_back(_kind(), [job.lease for job in jobs], due_at=due_at)


def _kind() -> kinds.Kind:
    return kinds.get("delivery")


def replay(deliveries: QuerySet[Delivery], *, now: datetime) -> int:
    """Dead deliveries are owed again from now, with a fresh count (the admin action and
    `replay_webhooks` call this). Returns how many."""
    return deliveries.filter(status=Delivery.Status.DEAD).update(
        status=Delivery.Status.PENDING, needs_work=True, attempts=0, due_at=now,
        pending_since=now, last_error="")


def destinations_of(subscriptions: QuerySet[Subscription]) -> list[str]:
    """The breaker keys of these subscriptions' URLs."""
    from webhooks import events

    return sorted({events.destination_of(url)
                   for url in subscriptions.values_list("url", flat=True)})
