"""A deploy in a test: replace a deriver by a new version of it (optionally new code)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from core import derivers
from core.summarize import summarize


def bump(monkeypatch, name: str, derive: Callable | None = None) -> derivers.Deriver:
    """This process now runs `name` at version + 1 (with `derive` if given), as after a
    deploy; returns the new deriver."""
    from reconciler.rollouts import advance as rollouts

    new = {}
    for d in derivers.ALL:
        if d.name == name:
            new[name] = dataclasses.replace(d, version=d.version + 1,
                                            derive=derive or d.derive)
    bumped = tuple(new.get(d.name, d) for d in derivers.ALL)
    monkeypatch.setattr(derivers, "ALL", bumped)
    monkeypatch.setattr(derivers, "BY_NAME", {d.name: d for d in bumped})
    monkeypatch.setattr(derivers, "VERSIONS", {d.name: d.version for d in bumped})
    rollouts.SEEN.reset()
    return new[name]


def longer_summary(track):
    """A summary whose distance grows with the track's length (5 % per 100 points) and
    whose moving time gains 10 s: a change the report must measure exactly."""
    summary = summarize(track)
    grow = 1 + 0.05 * len(track.lat) / 100
    if summary["distance_m"] is not None:
        summary["distance_m"] = round(summary["distance_m"] * grow, 1)
    if summary["moving_s"] is not None:
        summary["moving_s"] = summary["moving_s"] + 10
    return summary
