"""When a transiently failed activity may be tried again: exponential backoff with jitter."""

from __future__ import annotations

import random
from datetime import datetime, timedelta


def next_attempt_at(attempts: int, *, now: datetime, base_s: float, cap_s: float,
                    rng: random.Random | None = None) -> datetime:
    """`now` plus base * 2^(attempts-1), capped, times a random factor in [0.5, 1).

    The jitter spreads retries of activities that failed together (a broker or storage
    outage) so they do not all come back in the same sweep.
    """
    rng = rng or random
    delay = min(cap_s, base_s * 2 ** max(attempts - 1, 0))
    return now + timedelta(seconds=delay * (0.5 + rng.random() / 2))
