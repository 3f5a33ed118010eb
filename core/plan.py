"""Which derivers to run for one activity: a pure diff of the declared against the stored."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from core.derivers.base import Deriver

READY = "ready"
FAILED = "failed"
STALE = "stale"


@dataclass(frozen=True)
class Stored:
    """What is stored for one deriver of one activity."""

    version: int
    status: str  # READY, FAILED or STALE
    digest: bytes | None = None  # of the stored bytes (None: a failure, or not known yet)


def todo(stored: Mapping[str, Stored], wanted: Sequence[Deriver],
         held: Collection[str] = ()) -> list[Deriver]:
    """The derivers to run, in dependency order.

    1. A deriver runs if its output is missing, older than the code's version, or forced
       (STALE), or if one of its inputs runs. An older output of a `held` deriver (its
       rollout is in preview, paused or rolled back) counts as current.
    2. It does not run if an input failed permanently and will not run again, or is
       itself blocked so: it would fail the same way.
    3. An output newer than the code is left alone: this worker runs older code (a
       partial deploy) and never writes below what is stored.
    """
    run: set[str] = set()
    blocked: set[str] = set()
    for deriver in wanted:
        mine = stored.get(deriver.name)
        if mine is not None and mine.version > deriver.version:
            continue
        if any(n in blocked or _is_settled_failure(stored.get(n), n, run)
               for n in deriver.needs):
            blocked.add(deriver.name)
            continue
        if outdated(mine, deriver, held) or any(n in run for n in deriver.needs):
            run.add(deriver.name)
    return [d for d in wanted if d.name in run]


def outdated(mine: Stored | None, deriver: Deriver, held: Collection[str] = ()) -> bool:
    """Whether a deriver's own output wants a rebuild: missing, older than the code (and
    not held), or forced. A deriver todo() chose for another reason runs only because an
    input runs: it is skipped when every input it needs gave the bytes already stored
    (a rebuild that changed nothing changes nothing after it)."""
    old = mine is not None and mine.version < deriver.version
    return mine is None or (old and deriver.name not in held) or mine.status == STALE


def _is_settled_failure(entry: Stored | None, name: str, run: set[str]) -> bool:
    return entry is not None and entry.status == FAILED and name not in run
