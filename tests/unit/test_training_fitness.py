"""Fitness, fatigue and form: hand-worked days, a year against the impulse-response sum,
and a restart from any day equal, byte for byte, to the full recompute."""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict
from datetime import date, timedelta
from fractions import Fraction

import pytest

from core.training import fitness
from core.training.fitness import State

START = date(2025, 1, 1)
END = date(2025, 12, 31)


def year_of_loads(seed: int) -> dict[date, float]:
    """Random training: rest days, easy days, a few big ones, a fortnight off."""
    rng = random.Random(seed)
    loads = {}
    for offset in range(365):
        day = START + timedelta(days=offset)
        if 200 <= offset < 214 or rng.random() < 0.3:
            continue
        loads[day] = round(rng.choice([rng.uniform(20, 80), rng.uniform(80, 250)]), 1)
    return loads


def printed(days) -> bytes:
    return json.dumps([asdict(d) for d in days], default=str).encode()


def test_one_day_of_100_by_hand():
    days = fitness.series({START: 100.0}, start=START, end=START + timedelta(days=1))
    # 100 · (1 − e^(−1/42)) = 2.3529; 100 · (1 − e^(−1/7)) = 13.3122 (1/42 would give 2.38)
    assert (days[0].load, days[0].fitness, days[0].fatigue, days[0].form) == (
        100.0, 2.35, 13.31, 0.0)  # form is yesterday's: fresh going into the day
    # The next day decays: 2.3529 · e^(−1/42) = 2.2976, 13.3122 · e^(−1/7) = 11.5401;
    # form = yesterday's 2.3529 − 13.3122.
    assert (days[1].load, days[1].fitness, days[1].fatigue, days[1].form) == (
        0.0, 2.30, 11.54, -10.96)


def test_a_year_matches_the_impulse_response_sum():
    """Each day's load fades by e^(−1/τ) a day: fitness on day T is
    Σ_k load_k · (1 − e^(−1/τ)) · e^(−(T−k)/τ), summed directly for every day."""
    loads = year_of_loads(1)
    days = fitness.series(loads, start=START, end=END)
    assert len(days) == 365
    for t, day in enumerate(days):
        for tau, shown in ((42, day.fitness), (7, day.fatigue)):
            ages = [(t - (d - START).days, load) for d, load in loads.items()]
            direct = sum(load * (1 - math.exp(-1 / tau)) * math.exp(-age / tau)
                         for age, load in ages if age >= 0)
            assert abs(shown - direct) <= 0.005 + 1e-9, (day.date, tau)
    last = days[-1]
    assert last.fitness == round(last.state.fitness, 2)
    assert days[-1].form == round(days[-2].state.fitness - days[-2].state.fatigue, 2)


def test_empty_days_decay_and_end_before_start_is_empty():
    days = fitness.series({}, start=START, end=START + timedelta(days=42),
                          before=State(fitness=50.0, fatigue=70.0))
    assert days[-1].fitness == pytest.approx(50.0 * math.exp(-43 / 42), abs=0.005)
    assert days[0].form == -20.0
    assert fitness.series({START: 10.0}, start=START, end=START - timedelta(days=1)) == []


@pytest.mark.parametrize("seed", range(3))
def test_a_restart_from_any_day_equals_the_full_run_byte_for_byte(seed):
    loads = year_of_loads(seed)
    full = fitness.series(loads, start=START, end=END)
    for offset in range(1, 365, 23):
        restarted = fitness.series(loads, start=START + timedelta(days=offset), end=END,
                                   before=full[offset - 1].state)
        assert printed(restarted) == printed(full[offset:]), offset


def test_a_changed_day_recomputed_from_there_equals_a_full_recompute():
    loads = year_of_loads(7)
    old = fitness.series(loads, start=START, end=END)
    changed_day = START + timedelta(days=150)  # an activity added, and FTP re-scored later
    new_loads = dict(loads) | {changed_day: 312.4, changed_day + timedelta(days=3): 0.0}
    tail = fitness.series(new_loads, start=changed_day, end=END, before=old[149].state)
    assert printed(old[:150] + tail) == printed(fitness.series(new_loads, start=START, end=END))


def test_no_negative_zero_is_printed():
    days = fitness.series({}, start=START, end=START, before=State(fitness=1.0, fatigue=1.001))
    assert days[0].form == 0.0 and math.copysign(1.0, days[0].form) == 1.0


def test_daily_loads_sum_exactly_whatever_the_order():
    rng = random.Random(3)
    # Loads of very different sizes, so that summing them in another order rounds otherwise.
    pairs = [(START + timedelta(days=rng.randrange(3)),
              rng.uniform(0, 300) * 10 ** rng.randrange(-3, 3)) for _ in range(300)]
    exact = {}
    for day, load in pairs:
        exact[day] = exact.get(day, Fraction(0)) + Fraction(load)
    expected = {day: float(total) for day, total in exact.items()}
    assert fitness.daily_loads(pairs) == expected
    rng.shuffle(pairs)
    assert fitness.daily_loads(pairs) == expected
