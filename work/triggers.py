"""What starts a committed row's work soon: a nudge (best effort), or, when the queue is
down, an inline run. The orchestration registers how, per kind (reconciler.apps); the apps
that commit rows only name the row, so they need not import the orchestration. Nothing
depends on a trigger: the sweep finds every due row all the same."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import structlog
from django.db import transaction

log = structlog.get_logger(__name__)

_HANDLERS: dict[str, Callable[..., None]] = {}


def handle(kind: str, handler: Callable[..., None]) -> None:
    """Say how a committed row of `kind` is started: `handler(row_id, **context)`."""
    _HANDLERS[kind] = handler


def after_commit(kind: str, row_id: int, **context) -> None:
    """Start the row's work once the caller's transaction commits (never before: a worker
    must find the row)."""
    transaction.on_commit(partial(_start, kind, row_id, context))


def _start(kind: str, row_id: int, context: dict) -> None:
    handler = _HANDLERS.get(kind)
    if handler is None:  # the sweep takes it: slower, never lost
        log.warning("trigger.unhandled", kind=kind, row_id=row_id)
        return
    handler(row_id, **context)
