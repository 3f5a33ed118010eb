"""Edits applied to real tracks: a crop keeps exactly its span, undoing it gives the same
bytes back, a split's two parts add up to the whole, a removed stretch is a gap no
distance crosses."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest

from core import revisions
from core import track as tracks
from core.derivers.track import build_track
from core.revisions import EditError
from core.summarize import summarize
from core.track import Track
from tests import factories
from tests.corpus import require_corpus

#: Corpus activities with times and positions: a run, a long ride with power, a GPX.
FILES = ["fit/fitparse__2013-02-06-12-11-14.fit",
         "fit/fitparse__Edge810-Vector-2013-08-16-15-35-10.fit",
         "gpx/sportslib__2067489619.gpx"]


@cache
def _original(name: str) -> bytes:
    return Path(require_corpus(), name).read_bytes()


def _span(track: Track) -> tuple[float, float]:
    return revisions.span(track)


@pytest.mark.corpus
@pytest.mark.parametrize("name", FILES)
def test_a_crop_keeps_its_span_and_undoing_it_gives_the_same_bytes(name):
    whole = build_track(_original(name))
    first, last = _span(whole)
    edits = revisions.cropped({}, whole, 600, 1800)
    cropped = build_track(_original(name), edits)
    assert _span(cropped)[0] >= first + 600 and _span(cropped)[1] <= first + 1800
    inside = (whole.time >= first + 600) & (whole.time <= first + 1800)
    assert cropped.n == int(inside.sum())
    assert np.array_equal(cropped.lat, whole.lat[inside], equal_nan=True)
    summary = summarize(cropped)
    assert summary["elapsed_s"] == pytest.approx(_span(cropped)[1] - _span(cropped)[0], abs=0.1)
    assert summary["distance_m"] < summarize(whole)["distance_m"]
    # Undone (no edits): the very bytes of the first build.
    assert tracks.encode(build_track(_original(name), None)) == tracks.encode(whole)
    assert tracks.encode(build_track(_original(name), {})) == tracks.encode(whole)


@pytest.mark.corpus
@pytest.mark.parametrize("name", FILES)
def test_the_two_parts_of_a_split_add_up_to_the_whole(name):
    whole = build_track(_original(name))
    first, last = _span(whole)
    at_s = (last - first) * 0.4
    one, two = revisions.split({}, whole, at_s)
    parts = [summarize(build_track(_original(name), e)) for e in (one, two)]
    # The whole as an edited track is (its totals from its points, not the device's).
    edited_whole = summarize(build_track(_original(name), {"crop": [first, last]}))
    for key in ("distance_m", "elapsed_s", "moving_s"):
        assert parts[0][key] + parts[1][key] == pytest.approx(edited_whole[key], abs=0.25), key
    # Climb counts only rises past a threshold (core.elevation): one that straddles the
    # split may count on neither side, so the parts' sum is within a metre or two.
    assert parts[0]["ascent_m"] + parts[1]["ascent_m"] == pytest.approx(
        edited_whole["ascent_m"], abs=2.0)
    assert one["crop"][1] == two["crop"][0]  # the point at the split is in both


def test_a_removed_stretch_is_a_gap_that_starts_a_segment():
    track = build_track(factories.gpx(points=100, step_s=5))
    first, _ = _span(track)
    edited = revisions.apply(track, revisions.removed({}, track, 100, 200))
    kept = (track.time <= first + 100) | (track.time >= first + 200)
    assert edited.n == int(kept.sum())
    assert len(edited.segment_starts) == 2
    gap_start = edited.segment_starts[1]
    assert edited.time[gap_start] == first + 200
    # No distance is drawn across the gap: less than the whole minus the stretch's own.
    whole = summarize(revisions.apply(track, {"crop": list(_span(track))}))["distance_m"]
    assert summarize(edited)["distance_m"] < whole - 400


def test_edits_that_cannot_apply_are_refused_in_a_sentence():
    track = build_track(factories.gpx(points=30, step_s=5))
    with pytest.raises(EditError, match="end after it starts"):
        revisions.cropped({}, track, 100, 50)
    with pytest.raises(EditError, match="cannot start after"):
        revisions.cropped({}, track, 10_000, 20_000)
    with pytest.raises(EditError, match="fewer than two points"):
        revisions.cropped({}, track, 11, 12)
    with pytest.raises(EditError, match="inside the activity"):
        revisions.split({}, track, 145)
    timeless = build_track(factories.gpx(points=30, times=False))
    with pytest.raises(EditError, match="no times"):
        revisions.cropped({}, timeless, 0, 10)
