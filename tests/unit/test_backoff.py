"""backoff.next_attempt_at: exponential, capped, jittered."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from core import backoff

NOW = datetime(2026, 1, 15, 12, tzinfo=UTC)


@pytest.mark.parametrize(("attempts", "full_delay_s"), [
    (1, 30),  # first retry: the base
    (2, 60),
    (4, 240),
    (10, 3600),  # 30 * 2^9 is past the cap
])
def test_delay_doubles_per_attempt_up_to_the_cap_with_jitter(attempts, full_delay_s):
    rng = random.Random(7)
    delays = [
        (backoff.next_attempt_at(attempts, now=NOW, base_s=30, cap_s=3600, rng=rng) - NOW)
        .total_seconds()
        for _ in range(200)
    ]
    assert min(delays) >= full_delay_s * 0.5
    assert max(delays) < full_delay_s
    assert len(set(delays)) > 100  # jittered, not one value


def test_next_attempt_is_always_in_the_future():
    assert backoff.next_attempt_at(1, now=NOW, base_s=1, cap_s=1) > NOW
    assert backoff.next_attempt_at(0, now=NOW, base_s=30, cap_s=60) >= NOW + timedelta(seconds=15)
