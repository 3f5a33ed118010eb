"""Which derivers' older outputs still count as current, for what activities show.

By default none: an output older than its deriver's version is not current. A version
rollout, run by the layer above (reconciler.rollouts), holds a deriver's older outputs as
current while it is previewed, paused or rolled back; that layer names its source here at
start-up (its AppConfig.ready), so that activities follow the rollouts without importing
them.
"""

from __future__ import annotations

from collections.abc import Callable

_source: Callable[[], set[str]] = set


def held_by(source: Callable[[], set[str]]) -> None:
    """Where held() reads from: a function returning the held derivers' names."""
    global _source
    _source = source


def held() -> set[str]:
    """Derivers whose older outputs count as current now."""
    return _source()
