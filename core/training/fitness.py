"""Fitness, fatigue and form per day from daily loads: the performance management chart
(CTL, ATL, TSB in TrainingPeaks' words).

    fitness_t = fitness_{t−1} + (load_t − fitness_{t−1}) · (1 − e^(−1/42))
    fatigue_t = fatigue_{t−1} + (load_t − fatigue_{t−1}) · (1 − e^(−1/7))
    form_t    = fitness_{t−1} − fatigue_{t−1}

The factor is 1 − e^(−1/τ), not the 1/τ some tools use: it is Banister's impulse-response
model exactly (a day's load then fades by e^(−1/τ) a day, to 1/e after τ days, which is
what "a 42-day time constant" says); 1/τ is its first-order approximation, 1.2 % larger
for τ = 42 and 7.3 % for τ = 7. A day without activity has load 0 and decays.

Form uses yesterday's values, as Coggan and TrainingPeaks do: it is the freshness one
starts the day with, before the day's training.

Precision: the recurrence runs on unrounded floats, `Day.state`; the numbers shown and
stored for display (`fitness`, `fatigue`, `form`) are rounded to 0.01 and never fed back.
Rounding inside would let a restart resume from the shown numbers, but at 0.01 it sticks:
a fitness below about 0.2 decays by less than 0.005 a day and never reaches 0. So a
restart from day D resumes from the exact `state` of day D − 1 (kept as a float64:
double precision round-trips it), and then gives the same rows, bit for bit, as a full
recompute: the same operations on the same floats in the same order.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

FITNESS_DAYS = 42
FATIGUE_DAYS = 7
#: The share of the gap to today's load closed in one day, 1 − e^(−1/τ).
FITNESS_RATE = -math.expm1(-1 / FITNESS_DAYS)
FATIGUE_RATE = -math.expm1(-1 / FATIGUE_DAYS)
#: Decimals of the shown and stored values.
DIGITS = 2


@dataclass(frozen=True)
class State:
    """Exact fitness and fatigue at the end of a day: what a restart resumes from."""

    fitness: float = 0.0
    fatigue: float = 0.0


@dataclass(frozen=True, kw_only=True)
class Day:
    """One day of the chart: its load and the values rounded to DIGITS, and the exact
    `state` behind them."""

    date: date
    load: float
    fitness: float
    fatigue: float
    form: float
    state: State


def daily_loads(loads: Iterable[tuple[date, float]]) -> dict[date, float]:
    """(day, activity load) pairs -> day -> sum of its loads.

    math.fsum is correctly rounded, so the sum does not depend on the activities' order:
    a day's load comes out the same whichever query listed them.
    """
    by_day: dict[date, list[float]] = {}
    for day, load in loads:
        by_day.setdefault(day, []).append(load)
    return {day: math.fsum(values) for day, values in by_day.items()}


def series(loads: Mapping[date, float], *, start: date, end: date,
           before: State | None = None) -> list[Day]:
    """One Day per date from `start` to `end` inclusive (none when end < start).

    `before` is the state at the end of the day before `start` (State(): nothing before).
    """
    state = before if before is not None else State()
    days = []
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        load = float(loads.get(day, 0.0))
        form = state.fitness - state.fatigue
        state = State(fitness=state.fitness + (load - state.fitness) * FITNESS_RATE,
                      fatigue=state.fatigue + (load - state.fatigue) * FATIGUE_RATE)
        days.append(Day(date=day, load=load, fitness=_shown(state.fitness),
                        fatigue=_shown(state.fatigue), form=_shown(form), state=state))
    return days


def _shown(value: float) -> float:
    # + 0.0 turns round()'s -0.0 into 0.0, so that a restart and a full run print alike.
    return round(value, DIGITS) + 0.0
