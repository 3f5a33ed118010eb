"""The training pages' charts, drawn on the server as SVG (no script, no inline style:
the pages' policy allows neither), their numbers labelled in HTML beside them:

- the fitness chart: fitness, fatigue and form per day as lines over a zero line, and the
  daily load as bars under them;
- the power curve: best mean power per duration on a logarithmic time axis, all time and
  the last 90 days.

Each returns the geometry and the labels; the tables under the charts hold every number."""

from __future__ import annotations

import math

#: The plots' own units (viewBox); CSS stretches them to any width.
WIDTH, HEIGHT = 1000, 100
LINES = ("fitness", "fatigue", "form")


def _scale(low: float, high: float):
    """value -> y in the plot, `high` at the top."""
    span = (high - low) or 1.0
    return lambda v: round(HEIGHT * (high - v) / span, 2)


def fitness(days: list[dict]) -> dict | None:
    """The chart of `days` (the API's: date, load, fitness, fatigue, form; oldest first),
    or None without days."""
    if not days:
        return None
    step = WIDTH / max(len(days) - 1, 1)
    values = [d[name] for d in days for name in LINES]
    high, low = max(0.0, *values), min(0.0, *values)
    y = _scale(low, high)
    if len(days) == 1:  # one day: a level line across, where a point would not show
        lines = {name: f"0,{y(days[0][name])} {WIDTH},{y(days[0][name])}" for name in LINES}
    else:
        lines = {name: " ".join(f"{round(i * step, 2)},{y(d[name])}"
                                for i, d in enumerate(days)) for name in LINES}
    top_load = max(d["load"] for d in days)
    bar = min(step * 0.8, 20.0)
    bars = [{"x": round(i * step - bar / 2, 2), "width": round(bar, 2),
             "y": round(HEIGHT * (1 - d["load"] / top_load), 2),
             "height": round(HEIGHT * d["load"] / top_load, 2),
             "label": f"{d['date']}: load {d['load']:.1f}"}
            for i, d in enumerate(days) if d["load"] > 0] if top_load > 0 else []
    last = days[-1]
    return {"width": WIDTH, "height": HEIGHT, "lines": lines, "zero": y(0.0),
            "high": round(high, 1), "low": round(low, 1), "top_load": round(top_load, 1),
            "bars": bars, "first": days[0]["date"], "last": last["date"],
            "latest": {name: last[name] for name in ("load", *LINES)}}


def duration_label(seconds: int) -> str:
    """A duration as a curve's axis names it: "5 s", "20 min", "1 h 30 min"."""
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes} min" + (f" {rest} s" if rest else "")
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h" + (f" {rest // 60} min" if rest // 60 else "")


def power_curve(whole: list[dict], recent: list[dict], *, longest: int) -> dict | None:
    """The chart and the table of the two curves (the API's points: duration_s, watts,
    activity_id), `longest` the axis' last duration; None when both are empty."""
    if not whole and not recent:
        return None
    top = max(p["watts"] for p in (*whole, *recent)) or 1.0
    span = math.log(longest)

    def x(seconds: int) -> float:
        return round(WIDTH * math.log(seconds) / span, 2)

    def y(watts: float) -> float:
        return round(HEIGHT * (1 - watts / top), 2)

    def line(points: list[dict]) -> dict:
        return {"points": " ".join(f"{x(p['duration_s'])},{y(p['watts'])}" for p in points),
                "dots": [{"x": x(p["duration_s"]), "y": y(p["watts"]),
                          "label": f"{duration_label(p['duration_s'])}: {p['watts']:.0f} W"}
                         for p in points]}

    by_whole = {p["duration_s"]: p for p in whole}
    by_recent = {p["duration_s"]: p for p in recent}
    rows = [{"duration_s": d, "duration": duration_label(d), "all": by_whole.get(d),
             "recent": by_recent.get(d)} for d in sorted({*by_whole, *by_recent})]
    return {"width": WIDTH, "height": HEIGHT, "top": round(top), "all": line(whole),
            "recent": line(recent), "rows": rows, "longest": duration_label(longest)}

