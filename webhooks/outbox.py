"""Delivering the outbox: the sweep leases due deliveries (reconciler.leases: attempts
counted at the claim, one fence) and posts them on this process's small thread pool, one
job per destination, so that neither a hanging receiver nor the posting itself holds up
deriving activities or other receivers. Each owner holds at most a fair share of the
threads (core.shares), so one owner's slow receivers cannot hold everyone's; each POST
has one deadline for all of it (transport). Each job settles its results under the fence."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet

from core import backoff, shares
from reconciler import leases
from webhooks import breaker, destinations, limits, metrics, signing, transport
from webhooks.models import Delivery, DeliveryAttempt, Subscription
from work import clock

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


def deliver(*, now: datetime, owner: str) -> int:
    """Lease due deliveries and start posting them; returns how many were leased at once
    (the posting goes on in this process's delivery threads, or here when
    CAIRN_WEBHOOK_CONCURRENCY is 0)."""
    # Read first: a sweep that finds nothing owed takes no write lock (SQLite) at all.
    if not Delivery.objects.filter(needs_work=True, due_at__lte=now).exists():
        return 0
    bury(now=now)
    POOL.ensure()
    with POOL.lock:
        busy = dict(POOL.busy)
    threads = settings.CAIRN_WEBHOOK_CONCURRENCY
    if threads and len(busy) >= threads:
        return 0  # every thread is posting: what is leased now would only queue
    owners = _owners_due(now, busy) if threads else 0
    excluded = shares.full(busy, threads=threads, owners=owners,
                           cap=settings.CAIRN_WEBHOOK_THREADS_PER_OWNER) if threads else set()
    condition, params = _claim_condition(busy, excluded | limits.limited_owners(now=now))
    taken = leases.lease(Delivery, limit=settings.CAIRN_WEBHOOK_BATCH, now=now, owner=owner,
                         condition=condition, params=params)
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


def _claim_condition(busy: dict[str, int], owners: set[int]) -> tuple[str, dict]:
    """Not a destination this process is posting to (one job per destination), nor an
    owner who holds a whole share of the threads or has posted a minute's deliveries."""
    conditions, params = ["TRUE"], {}
    if busy:
        params |= {f"busy_{n}": d for n, d in enumerate(sorted(busy))}
        conditions.append(f"a.destination NOT IN ({', '.join(f'%({k})s' for k in params)})")
    if owners:
        named = {f"owner_{n}": o for n, o in enumerate(sorted(owners))}
        params |= named
        conditions.append(f"a.subscription_id NOT IN (SELECT id FROM "
                          f"{Subscription._meta.db_table} WHERE owner_id IN "
                          f"({', '.join(f'%({k})s' for k in named)}))")
    return " AND ".join(conditions), params


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
    """Post one destination's deliveries in order until one fails, the breaker or the
    owner's rate says wait, or the budget is spent; those not posted go back without
    spending an attempt."""
    deadline = time.monotonic() + settings.CAIRN_WEBHOOK_BUDGET_S
    for n, job in enumerate(jobs):
        now = clock.now()
        decision = breaker.breakers().allow(destination, now=now)
        if not decision.go:
            metrics.DELIVERIES.labels(outcome="breaker_open").inc()
            hand_back(jobs[n:], due_at=decision.retry_at or now)
            return
        wait = limits.delivery_wait(job.delivery.subscription.owner_id, now=now)
        if wait is not None:  # the owner's minute is spent: due again when it ends
            metrics.DELIVERIES.labels(outcome="rate_limited").inc()
            hand_back(jobs[n:], due_at=wait)
            return
        ok = post(job, probe=decision.probe)
        if not ok or time.monotonic() > deadline:
            hand_back(jobs[n + 1:], due_at=clock.now())
            return


def post(job: Job, *, probe: bool = False) -> bool:
    """One try of one delivery: post it, record the attempt and the outcome under the
    fence, and tell the destination's breaker. True if the receiver took it."""
    delivery = job.delivery
    started = clock.now()
    try:
        target = destinations.parse(delivery.subscription.url)
        answer = transport.request("POST", target, body=delivery.body.encode(),
                                   headers=signing.headers(delivery),
                                   timeout_s=settings.CAIRN_WEBHOOK_TIMEOUT_S)
    except destinations.Refused as refused:
        answer = transport.Answer(None, str(refused), b"", 0)
    else:
        # Only a try that reached out tells the breaker anything (a refused address is
        # our rule, not the receiver's health).
        breaker.breakers().record(delivery.destination, ok=answer.ok, probe=probe,
                                  now=clock.now())
    settle(job, answer, started=started)
    return answer.ok


def settle(job: Job, answer: transport.Answer, *, started: datetime) -> str:
    """Record one try and the delivery's new state, in one fenced transaction; returns
    the outcome (delivered, retrying, dead, or lease_lost: someone else holds it now)."""
    delivery = job.delivery
    with transaction.atomic():
        now = clock.now()
        if not leases.fence(Delivery, [delivery.id], job.lease.token, now=now):
            outcome = "lease_lost"
        else:
            DeliveryAttempt.objects.create(
                delivery_id=delivery.id, started_at=started, duration_ms=answer.duration_ms,
                status_code=answer.status, error=answer.error or (
                    "" if answer.ok else f"The receiver answered {answer.status}."))
            outcome = _next_state(delivery, answer, now=now)
    metrics.DELIVERIES.labels(outcome=outcome).inc()
    log.info("webhook.posted", delivery_id=delivery.id, destination=delivery.destination,
             status_code=answer.status, error=answer.error, outcome=outcome,
             duration_ms=answer.duration_ms, attempt=delivery.attempts)
    return outcome


def _next_state(delivery: Delivery, answer: transport.Answer, *, now: datetime) -> str:
    released = {"lease_token": None, "lease_owner": "", "lease_expires_at": None}
    rows = Delivery.objects.filter(id=delivery.id)
    if answer.ok:
        rows.update(status=Delivery.Status.DELIVERED, needs_work=False, delivered_at=now,
                    pending_since=None, last_error="", **released)
        return "delivered"
    error = answer.error or f"The receiver answered {answer.status}."
    # The claim counted this try: `attempts` is read back as the claim left it.
    attempts = Delivery.objects.values_list("attempts", flat=True).get(id=delivery.id)
    if attempts >= settings.CAIRN_WEBHOOK_MAX_ATTEMPTS:
        rows.update(status=Delivery.Status.DEAD, needs_work=False, pending_since=None,
                    last_error=error, **released)
        log.warning("webhook.dead", delivery_id=delivery.id, attempts=attempts)
        return "dead"
    due = backoff.next_attempt_at(attempts, now=now,
                                  base_s=settings.CAIRN_WEBHOOK_BACKOFF_BASE_S,
                                  cap_s=settings.CAIRN_WEBHOOK_BACKOFF_CAP_S)
    rows.update(due_at=due, last_error=error, **released)
    return "retrying"


def hand_back(jobs: list[Job], *, due_at: datetime) -> None:
    """Give leases back unposted: the attempt the claim counted is returned (a delivery
    that waits for a breaker or its turn has not been tried)."""
    for job in jobs:
        Delivery.objects.filter(id=job.delivery.id, lease_token=job.lease.token).update(
            lease_token=None, lease_owner="", lease_expires_at=None, due_at=due_at,
            attempts=F("attempts") - 1)


def bury(*, now: datetime) -> int:
    """Deliveries whose leases ran out CAIRN_WEBHOOK_MAX_ATTEMPTS times (their workers
    died mid-post) are dead, never leased again."""
    spent = Delivery.objects.filter(needs_work=True, lease_token__isnull=False,
                                    due_at__lte=now,
                                    attempts__gte=settings.CAIRN_WEBHOOK_MAX_ATTEMPTS)
    n = spent.update(status=Delivery.Status.DEAD, needs_work=False, lease_token=None,
                     lease_owner="", lease_expires_at=None, pending_since=None,
                     last_error="The worker posting it stopped before it finished, "
                                "every time.")
    if n:
        metrics.DELIVERIES.labels(outcome="dead").inc(n)
    return n


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
