"""The backfill's floor: a deriver that does nothing, so that a bump of it costs only what
every rebuild costs (claim, attempt log, plan, the fenced settle), never a deriver's work.

It is registered in the benchmark's processes alone (bench/noop_settings.py), last in
dependency order and reading nothing: no stored input, no original.
"""

from __future__ import annotations

from core import derivers
from core.derivers.base import Deriver

NOOP = Deriver(name="noop", version=1, needs=(), derive=lambda: {})


def register() -> None:
    """Add NOOP to this process's derivers (idempotent)."""
    if NOOP.name in derivers.BY_NAME:
        return
    derivers.ALL = (*derivers.ALL, NOOP)
    derivers.BY_NAME = {d.name: d for d in derivers.ALL}
    derivers.VERSIONS = {d.name: d.version for d in derivers.ALL}
