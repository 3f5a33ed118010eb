"""Nudges sent after the answer: a bounded queue per process, drained by one background
thread, so that an upload never waits on the broker.

What this gives up is deliberate: a full queue drops the nudge (counted as
`cairn_nudges_total{outcome="dropped"}` and logged), and a process that dies loses what
it had queued (one that exits normally first gives it a few seconds to leave). Both
only delay the work: the sweep finds every activity that needs it.
"""

from __future__ import annotations

import atexit
import os
import queue
import threading
import time
from collections.abc import Callable

import structlog
from django.conf import settings
from django.db import close_old_connections, connection

from reconciler import nudges
from reconciler.operations import metrics
from work import tracing

log = structlog.get_logger(__name__)


class NudgeQueue:
    """The queue and its sender thread, started on first use in each process (a forked
    worker gets its own: a thread does not survive a fork)."""

    def __init__(self, send: Callable[[int], bool] = nudges.send) -> None:
        self.send = send
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._queue: queue.Queue[tuple[int, str | None, str]] | None = None

    def put(self, activity_id: int) -> bool:
        """Queue a nudge for the activity; False (counted, logged) if the queue is full."""
        request_id = structlog.contextvars.get_contextvars().get("request_id")
        try:
            self._started().put_nowait((activity_id, request_id, tracing.parent()))
        except queue.Full:
            metrics.NUDGES.labels(outcome="dropped").inc()
            log.warning("nudge.dropped", activity_id=activity_id,
                        queue_size=settings.CAIRN_NUDGE_QUEUE)
            return False
        return True

    def reset(self) -> None:
        """Start a new queue on next use, of the size then configured (tests); a thread
        already started keeps waiting on the old one."""
        with self._lock:
            self._pid = self._queue = None

    def join(self) -> None:
        """Wait until everything queued so far was sent or failed (tests, shutdown)."""
        if self._queue is not None and self._pid == os.getpid():
            self._queue.join()

    def flush(self, timeout_s: float = 5.0) -> None:
        """Give what this process queued up to `timeout_s` to leave (at exit: a command
        that imported files, a worker that gunicorn stops)."""
        pending = self._queue
        if pending is None or self._pid != os.getpid():
            return  # nothing queued here (a fork's copy is its parent's)
        deadline = time.monotonic() + timeout_s
        with pending.all_tasks_done:
            while pending.unfinished_tasks and (left := deadline - time.monotonic()) > 0:
                pending.all_tasks_done.wait(left)

    def _started(self) -> queue.Queue[tuple[int, str | None, str]]:
        with self._lock:
            if self._pid != os.getpid() or self._queue is None:
                self._queue = queue.Queue(maxsize=settings.CAIRN_NUDGE_QUEUE)
                self._pid = os.getpid()
                threading.Thread(target=self._drain, args=(self._queue,), name="nudges",
                                 daemon=True).start()
            return self._queue

    def _drain(self, pending: queue.Queue[tuple[int, str | None, str]]) -> None:
        while True:
            activity_id, request_id, traceparent = pending.get()
            try:
                with (structlog.contextvars.bound_contextvars(request_id=request_id),
                      tracing.attached(traceparent)):
                    self.send(activity_id)  # catches, counts and logs its own failures
            except Exception:  # never let one nudge stop the thread
                log.exception("nudge.enqueue_failed", activity_id=activity_id)
            finally:
                # The ORM broker writes through this thread's own connection: dropped when
                # nothing more waits (an idle thread holds none), or if the database went
                # away, as a request's would be.
                if pending.empty():
                    connection.close()
                else:
                    close_old_connections()
                pending.task_done()


QUEUE = NudgeQueue()
# At a normal exit, while the thread still runs: only a crash loses queued nudges.
atexit.register(QUEUE.flush)
