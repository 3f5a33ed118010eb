"""Delivering the outbox: the sweep leases due deliveries (the delivery kind,
webhooks.kind: attempts counted at the claim, one fence) and posts them on this process's
small thread pool, one job per destination, so that neither a hanging receiver nor the
posting itself holds up deriving activities or other receivers. Each owner holds at most a
fair share of the threads (core.shares), so one owner's slow receivers cannot hold
everyone's; each POST has one deadline for all of it (transport). Each job releases each
delivery with what came of its POST (work.run.settle, under the fence)."""

from __future__ import annotations

import dataclasses
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

from core import shares
from webhooks import breaker, destinations, limits, metrics, signing, transport
from webhooks.models import Delivery, Subscription
from work import clock, kinds, leases, tracing
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
        # The fair shares are reckoned on CAIRN_WEBHOOK_CONCURRENCY threads: the pool has
        # that many (a new pool if the setting changed; the old one finishes its jobs).
        size = max(settings.CAIRN_WEBHOOK_CONCURRENCY, 1)
        if self.pid != os.getpid():
            self.pid, self.size = os.getpid(), 0
            self.busy: dict[str, int] = {}  # destination → its owner
        if self.size != size:
            self.size = size
            self.executor = ThreadPoolExecutor(size, thread_name_prefix="webhooks")

    def submit(self, destination: str, jobs: list[Job]) -> None:
        # The threads are joined when the process exits (concurrent.futures does), so
        # `reconcile --once` posts what it leased before it ends.
        with self.lock:
            self.busy[destination] = jobs[0].delivery.subscription.owner_id
            self.executor.submit(_run, destination, jobs)

    def done(self, destination: str) -> None:
        with self.lock:
            self.busy.pop(destination, None)


POOL = Pool()


def busy() -> str:
    """The destinations this process's threads are posting to, as the claim's %(busy)s
    parameter ("|a|b|"): one job per destination per process, so their deliveries wait
    for the job that holds them (webhooks.kind.CLAIM_DUE)."""
    with POOL.lock:
        held = sorted(POOL.busy) if POOL.pid == os.getpid() else []
    return bars(held)


def bars(values) -> str:
    """Values as one statement parameter, "|a|b|", matched with LIKE '%|x|%'."""
    return "|" + "".join(f"{value}|" for value in sorted(values, key=str))


def deliver(*, now: datetime, owner: str) -> int:
    """Lease due deliveries and start posting them; returns how many were leased at once
    (the posting goes on in this process's delivery threads, or here when
    CAIRN_WEBHOOK_CONCURRENCY is 0). The delivery kind's step of the sweep."""
    # Read first: a sweep that finds nothing owed takes no write lock (SQLite) at all.
    if not Delivery.objects.filter(needs_work=True, due_at__lte=now).exists():
        return 0
    POOL.ensure()
    with POOL.lock:
        busy = dict(POOL.busy)
    threads = settings.CAIRN_WEBHOOK_CONCURRENCY
    if threads and len(busy) >= threads:
        return 0  # every thread is posting: what is leased now would only queue
    owners = _owners_due(now, busy) if threads else 0
    excluded = shares.full(busy, threads=threads, owners=owners,
                           cap=settings.CAIRN_WEBHOOK_THREADS_PER_OWNER) if threads else set()
    resting = excluded | limits.limited_owners(now=now)
    # The claim leaves out the destinations being posted to and the owners resting (a
    # whole share of the threads held, or a minute's deliveries posted).
    kind = dataclasses.replace(_kind(), params=lambda: {"busy": bars(busy),
                                                        "resting": bars(resting)})
    taken = leases.claim(kind, limit=kind.batch(), now=now, owner=owner,
                         trigger=Attempt.Trigger.SWEEP)
    if not taken:
        return 0
    rows = Delivery.objects.select_related("subscription").in_bulk([t.row_id for t in taken])
    by_destination: dict[str, list[Job]] = {}
    for lease in taken:
        row = rows[lease.row_id]
        by_destination.setdefault(row.destination, []).append(Job(lease, row))
    if threads:  # each owner's share of the threads, the rest back unspent for later
        chosen = set(shares.choose(
            ((d, jobs[0].delivery.subscription.owner_id) for d, jobs in by_destination.items()),
            busy, threads=threads, owners=owners,
            cap=settings.CAIRN_WEBHOOK_THREADS_PER_OWNER))
        for destination in [d for d in by_destination if d not in chosen]:
            hand_back(by_destination.pop(destination), due_at=now)
    for destination, jobs in by_destination.items():
        if settings.CAIRN_WEBHOOK_CONCURRENCY == 0:
            _post_all(destination, jobs)
        else:
            POOL.submit(destination, jobs)
    return len(taken)


def _owners_due(now: datetime, busy: dict[str, int]) -> int:
    """How many owners have deliveries due or posting (up to the pool's size: past it,
    everyone's share is one thread anyway)."""
    limit = settings.CAIRN_WEBHOOK_CONCURRENCY
    due = set(Delivery.objects.filter(needs_work=True, due_at__lte=now)
              .values_list("subscription__owner_id", flat=True).distinct()[:limit])
    return len(due | set(busy.values()))


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
    breaker or the owner's rate says wait, or the budget is spent; those not posted are
    given back without spending an attempt (work.leases.give_back)."""
    deadline = time.monotonic() + settings.CAIRN_WEBHOOK_BUDGET_S
    kind = _kind()
    for n, job in enumerate(jobs):
        try:
            with tracing.within(job.lease), tracing.span(
                    "webhook post", event=job.delivery.event,
                    destination=job.delivery.destination):
                outcome = attempt(job.delivery)
        except Exception as error:  # noqa: BLE001 (this delivery's outcome)
            log.exception("webhook.crashed", delivery_id=job.delivery.id,
                          error=f"{type(error).__name__}: {error}")
            outcome = work_run.crashed(kind, error)
        if isinstance(outcome, Wait):  # this one and the rest wait untried
            metrics.DELIVERIES.labels(outcome=WAITS.get(outcome.reason, "waiting")).inc()
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
    wait = limits.delivery_wait(delivery.subscription.owner_id, now=now)
    if wait is not None:  # the owner's minute is spent: due again when it ends
        return Wait(until=wait, reason="RateLimited")
    return post(delivery, probe=decision.probe)


#: What a wait is counted as (cairn_webhook_deliveries_total's outcome).
WAITS = {"BreakerOpen": "breaker_open", "RateLimited": "rate_limited"}


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
