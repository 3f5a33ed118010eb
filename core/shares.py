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
    key → owner), no more than the threads left, and each free thread to the owner who
    holds fewest (so that an owner freeing a thread does not take it straight back from
    one who has waited). `owners` is how many owners have work (held or waiting)."""
    share = per_owner(threads, owners, cap)
    held = Counter(busy.values())
    left = [(key, owner) for key, owner in dict(candidates).items() if key not in busy]
    chosen: list[Hashable] = []
    while left and len(busy) + len(chosen) < threads:
        open_ = [c for c in left if held[c[1]] < share]
        if not open_:
            break
        key, owner = min(open_, key=lambda c: held[c[1]])  # the first of the least served
        chosen.append(key)
        held[owner] += 1
        left.remove((key, owner))
    return chosen


def full(busy: Mapping[Hashable, Hashable], *, threads: int, owners: int,
         cap: int = 0) -> set[Hashable]:
    """The owners holding their whole share already (their work is not worth taking)."""
    share = per_owner(threads, owners, cap)
    return {owner for owner, n in Counter(busy.values()).items() if n >= share}
