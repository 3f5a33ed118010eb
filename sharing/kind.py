"""Public copies as a kind of reconciled work (work.kinds): claimed with the per-user
books' statements (work.userbooks) over sharing_publiccopy, built by sharing.build.run."""

from __future__ import annotations

from datetime import datetime

from sharing import build
from sharing.models import PublicCopy
from work import userbooks

#: Due copies by the partial index public_pending (fresh first: a privacy change's), orphans
#: by public_leased, one copy by id; copies newer than this code are left to newer workers.
KIND = userbooks.register(
    name="public", key="public", label="public copies", model=PublicCopy,
    table="sharing_publiccopy", version=lambda: build.VERSION, run=build.run,
    doing="building this activity's public copy", runbook="sharing-and-privacy.md")


def sweep(*, now: datetime, owner: str, limit: int | None = None) -> int:
    """Lease due copies and build each (tests, the benchmark); returns how many."""
    return userbooks.sweep(KIND, lambda now: 0, now=now, owner=owner, limit=limit)
