"""The training pages' SVG geometry: values placed on the plot's scale (the highest at
the top, the lowest at the bottom, zero where it falls), one point a day, and the power
curve's durations on a logarithmic axis from 1 s to the longest."""

from __future__ import annotations

import math
import random
from datetime import date, timedelta

from training import charts


def made_days(count: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        fitness, fatigue = rng.uniform(0, 80), rng.uniform(0, 110)
        out.append({"date": (date(2025, 1, 1) + timedelta(days=i)).isoformat(),
                    "load": rng.choice([0.0, rng.uniform(5, 200)]), "fitness": fitness,
                    "fatigue": fatigue, "form": fitness - fatigue})
    return out


def points(line: str) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in line.split()]


def test_each_day_is_a_point_on_the_scale_of_its_values():
    days = made_days(60, seed=7)
    chart = charts.fitness(days)
    values = [d[n] for d in days for n in charts.LINES]
    high, low = max(0.0, *values), min(0.0, *values)
    for name in charts.LINES:
        found = points(chart["lines"][name])
        assert len(found) == len(days)
        assert found[0][0] == 0 and found[-1][0] == charts.WIDTH
        for (_, y), day in zip(found, days, strict=True):
            assert abs(y - charts.HEIGHT * (high - day[name]) / (high - low)) <= 0.005
    assert abs(chart["zero"] - charts.HEIGHT * high / (high - low)) <= 0.005
    assert (chart["high"], chart["low"]) == (round(high, 1), round(low, 1))


def test_the_load_bars_are_the_days_with_load_the_highest_full_height():
    days = made_days(40, seed=8)
    chart = charts.fitness(days)
    loaded = [d for d in days if d["load"] > 0]
    assert [b["label"] for b in chart["bars"]] == [
        f"{d['date']}: load {d['load']:.1f}" for d in loaded]
    top = max(loaded, key=lambda d: d["load"])
    tallest = max(chart["bars"], key=lambda b: b["height"])
    assert tallest["label"].startswith(top["date"]) and tallest["height"] == charts.HEIGHT
    assert all(abs(b["y"] + b["height"] - charts.HEIGHT) <= 0.01 for b in chart["bars"])


def test_one_day_is_a_level_line_and_no_day_no_chart():
    assert charts.fitness([]) is None
    chart = charts.fitness(made_days(1, seed=9))
    for name in charts.LINES:
        (x0, y0), (x1, y1) = points(chart["lines"][name])
        assert (x0, x1) == (0, charts.WIDTH) and y0 == y1


def test_the_power_curve_is_on_a_logarithmic_time_axis():
    whole = [{"duration_s": d, "watts": 1000 / math.sqrt(d), "activity_id": 1}
             for d in (1, 5, 60, 1200, 18000)]
    recent = [{"duration_s": d, "watts": 500 / math.sqrt(d), "activity_id": 2}
              for d in (1, 60)]
    chart = charts.power_curve(whole, recent, longest=18000)
    found = points(chart["all"]["points"])
    assert found[0] == (0.0, 0.0) and found[-1][0] == charts.WIDTH
    for (x, y), point in zip(found, whole, strict=True):
        assert abs(x - charts.WIDTH * math.log(point["duration_s"]) / math.log(18000)) <= 0.005
        assert abs(y - charts.HEIGHT * (1 - point["watts"] / 1000)) <= 0.005
    assert [r["duration"] for r in chart["rows"]] == ["1 s", "5 s", "1 min", "20 min", "5 h"]
    assert [r["recent"] is not None for r in chart["rows"]] == [True, False, True, False, False]
    assert charts.power_curve([], [], longest=18000) is None


def test_durations_are_named_as_people_say_them():
    assert [charts.duration_label(s) for s in (1, 59, 60, 90, 3600, 5400, 18000)] == [
        "1 s", "59 s", "1 min", "1 min 30 s", "1 h", "1 h 30 min", "5 h"]
