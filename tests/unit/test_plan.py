"""plan.todo: the pure diff between declared derivers and what is stored."""

from core import plan
from core.derivers.base import Deriver
from core.plan import FAILED, READY, STALE, Stored


def _deriver(name, version, needs=()):
    return Deriver(name=name, version=version, needs=needs, derive=lambda *a: None)


TRACK = _deriver("track", 2)
SUMMARY = _deriver("summary", 3, ("track",))
PREVIEW = _deriver("preview", 1, ("track",))
CHART = _deriver("chart", 1, ("summary",))
WANTED = (TRACK, SUMMARY, PREVIEW, CHART)
CURRENT = {d.name: Stored(d.version, READY) for d in WANTED}


def _names(derivers):
    return [d.name for d in derivers]


def test_nothing_stored_runs_everything_in_dependency_order():
    assert _names(plan.todo({}, WANTED)) == ["track", "summary", "preview", "chart"]


def test_up_to_date_activity_runs_nothing():
    assert plan.todo(CURRENT, WANTED) == []


def test_old_version_runs_that_deriver_and_its_dependants_only():
    stored = {**CURRENT, "summary": Stored(2, READY)}
    assert _names(plan.todo(stored, WANTED)) == ["summary", "chart"]


def test_old_track_rebuilds_everything_downstream():
    stored = {**CURRENT, "track": Stored(1, READY)}
    assert _names(plan.todo(stored, WANTED)) == ["track", "summary", "preview", "chart"]


def test_forced_deriver_runs_even_at_the_current_version():
    stored = {**CURRENT, "preview": Stored(1, STALE)}
    assert _names(plan.todo(stored, WANTED)) == ["preview"]


def test_missing_new_deriver_runs_alone():
    stored = {k: v for k, v in CURRENT.items() if k != "preview"}
    assert _names(plan.todo(stored, WANTED)) == ["preview"]


def test_permanent_failure_at_current_version_is_not_retried_nor_its_dependants():
    stored = {"track": Stored(2, FAILED)}
    assert plan.todo(stored, WANTED) == []


def test_permanent_failure_of_an_older_version_is_tried_again():
    stored = {"track": Stored(1, FAILED)}
    assert _names(plan.todo(stored, WANTED)) == ["track", "summary", "preview", "chart"]


def test_output_newer_than_this_code_is_left_alone():
    # A worker still on old code (partial deploy) must not rebuild a newer summary.
    stored = {**CURRENT, "summary": Stored(4, READY)}
    assert plan.todo(stored, WANTED) == []


def test_an_old_output_of_a_held_rollout_counts_as_current():
    stored = {**CURRENT, "summary": Stored(2, READY)}
    assert plan.todo(stored, WANTED, held={"summary"}) == []


def test_a_held_output_still_rebuilds_when_forced_or_its_input_runs():
    assert _names(plan.todo({**CURRENT, "summary": Stored(2, STALE)}, WANTED,
                            held={"summary"})) == ["summary", "chart"]
    stored = {**CURRENT, "summary": Stored(2, READY), "track": Stored(1, READY)}
    assert _names(plan.todo(stored, WANTED, held={"summary"})) == [
        "track", "summary", "preview", "chart"]
