"""The nudge: a best-effort django-q2 task that starts work on an upload within a second.

Nothing depends on it arriving (the sweep finds every activity that needs work), so every
failure is caught, logged and counted, and a hung broker is given up on quickly.
"""

from __future__ import annotations

import os

import redis
import structlog
from django.conf import settings
from django_q.brokers import Broker, get_broker
from django_q.brokers.redis_broker import Redis
from django_q.tasks import async_task

from reconciler.operations import metrics, tallies
from work import tracing

log = structlog.get_logger(__name__)

TASK = "reconciler.tasks.nudge"
ARCHIVE_TASK = "reconciler.tasks.expand_archive"


class _QuickRedis(Redis):
    """q2's Redis broker, with timeouts so that a hung Redis cannot hold an upload."""

    @staticmethod
    def get_connection(list_key: str | None = None) -> redis.Redis:
        timeout = settings.CAIRN_NUDGE_TIMEOUT_S
        return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=timeout,
                                    socket_connect_timeout=timeout, retry_on_timeout=False)


class Brokers:
    """The broker connection of this process (by pid: a forked worker must not share its
    parent's socket)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget the connection: the next nudge opens one with the settings then in force
        (tests that change CAIRN_BROKER)."""
        self.by_pid: dict[int, Broker] = {}

    def get(self) -> Broker:
        pid = os.getpid()
        if pid not in self.by_pid:
            self.by_pid = {pid: _QuickRedis() if settings.CAIRN_BROKER == "redis"
                           else get_broker()}
        return self.by_pid[pid]


BROKERS = Brokers()


def broker() -> Broker:
    return BROKERS.get()


def send(activity_id: int) -> bool:
    """Enqueue a nudge for the activity; False (logged and counted) if the broker failed."""
    return _enqueue(TASK, activity_id, activity_id=activity_id)


def send_archive(archive_id: int) -> bool:
    """Enqueue the expansion of an archive; False (logged and counted) if that failed."""
    return _enqueue(ARCHIVE_TASK, archive_id, archive_id=archive_id)


def _enqueue(task: str, object_id: int, **context: int) -> bool:
    with tracing.span("nudge", task=task, **context):
        return _sent(task, object_id, **context)


def _sent(task: str, object_id: int, **context: int) -> bool:
    try:
        # save=False: a successful nudge leaves no row in q2's task table; the Attempt
        # log already says what happened. The request id goes along, so that one upload
        # can be followed into the worker.
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        async_task(task, object_id, broker=broker(), save=False, request_id=request_id,
                   task_name=f"{task.rsplit('.', 1)[1]}-{object_id}")
    except Exception as error:  # the broker refused, hung or broke: the sweep will do it
        metrics.NUDGES.labels(outcome="failed").inc()
        log.warning("nudge.enqueue_failed", error=f"{type(error).__name__}: {error}",
                    **context)
        tallies.record(tallies.NUDGE_FAILED)
        return False
    metrics.NUDGES.labels(outcome="sent").inc()
    log.info("nudge.sent", **context)
    return True


def after_upload(activity_id: int, *, size_bytes: int) -> None:
    """Nudge a worker: from the queue, after the answer; or, with the inline fallback (or
    no queue), here and now, and if the broker is down and the file small, process it."""
    from reconciler import nudge_queue
    from reconciler.derivation import inline

    if settings.CAIRN_NUDGE_QUEUE and not settings.CAIRN_INLINE_FALLBACK:
        nudge_queue.QUEUE.put(activity_id)
        return
    if send(activity_id):
        return
    if settings.CAIRN_INLINE_FALLBACK and size_bytes <= settings.CAIRN_INLINE_MAX_KB * 1024:
        inline.process(activity_id, budget_s=settings.CAIRN_INLINE_BUDGET_S)


def after_archive(archive_id: int) -> None:
    send_archive(archive_id)
