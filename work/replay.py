"""Replaying dead rows of any kind: due again at once, with a fresh count of attempts (the
`replay` command and the admin's action)."""

from __future__ import annotations

from datetime import datetime

import structlog
from django.db.models import F, QuerySet

from work.kinds import Kind
from work.models import Leased

log = structlog.get_logger(__name__)


def replay(kind: Kind, selected: QuerySet, *, now: datetime,
           priority: int = Leased.Priority.FRESH) -> int:
    """Make the dead rows of `kind` among `selected` due now, with a fresh count, their
    error cleared and the kind's own fields revived (kind.revived); returns how many.
    Rows that are not dead are left as they are. A dead row holds no lease (giving up
    cleared it), so nothing here races a worker; the generation moves, as for any new
    request of work."""
    dead = selected.filter(kind.rows()).filter(kind.dead(), lease_token__isnull=True)
    replayed = dead.update(needs_work=True, generation=F("generation") + 1, priority=priority,
                           attempts=0, due_at=now, pending_since=now,
                           **kind.error_fields("", ""), **kind.revived(now))
    if replayed:
        log.info("work.replayed", kind=kind.name, rows=replayed)
    return replayed
