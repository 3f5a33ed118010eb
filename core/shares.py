"""Fair shares of a pool of threads between owners: one owner's slow work may hold its
share, never everybody's."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping


def per_owner(threads: int, owners: int, cap: int = 0) -> int:
    """Threads one owner may hold: an even share, ⌈threads / owners⌉, and at most `cap`
    (0: no cap), so that an owner who arrives later finds a thread free; at least one."""
    share = math.ceil(threads / max(owners, 1))
    return max(1, min(share, cap) if cap else share)


def choose(candidates: Iterable[tuple[Hashable, Hashable]], busy: Mapping[Hashable, Hashable],
           *, threads: int, owners: int, cap: int = 0) -> list[Hashable]:
    """The keys to start now, from (key, owner) candidates in order of preference: none
    already busy, none past its owner's share (counting what the owner holds in `busy`,
    key → owner), no more than the threads left. `owners` is how many owners have work
    (held or waiting)."""
    share = per_owner(threads, owners, cap)
    held = Counter(busy.values())
    free = threads - len(busy)
    chosen: list[Hashable] = []
    for key, owner in candidates:
        if free <= 0:
            break
        if key in busy or key in chosen or held[owner] >= share:
            continue
        chosen.append(key)
        held[owner] += 1
        free -= 1
    return chosen


def full(busy: Mapping[Hashable, Hashable], *, threads: int, owners: int,
         cap: int = 0) -> set[Hashable]:
    """The owners holding their whole share already (their work is not worth taking)."""
    share = per_owner(threads, owners, cap)
    return {owner for owner, n in Counter(busy.values()).items() if n >= share}
