"""An activity's edits as data, applied to the track its original decodes to.

The original file is never rewritten: an activity's current revision is the original plus
its edits, and every output is derived from that. Edits are plain JSON:

    {"crop": [first, last], "remove": [[from, to], ...]}

in epoch seconds (the recording's own clock), so that they mean the same points whatever
other edit comes before or after them. `crop` keeps the points timed from `first` to
`last`, both included; each `remove` leaves out the points timed strictly between `from`
and `to` and the recording is a new segment after it (no distance is drawn across what was
removed). A point without a time is left out of an edited track, as nothing places it.
No edits ({}): the track as decoded, untouched.

A merge adds `{"take": {"from": id, "streams": ["hr", ...]}}`: the streams (of
TAKEN_STREAMS) this track lacks, taken from the activity merged into it (`take`, applied
by the track deriver after the crop and removals, from that activity's own track).

An edited track keeps its sport and name but not the device's session and lap totals
(they describe the whole recording): its totals are computed from the points kept.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from core.track import Track

#: What an activity merged into another may give it, where the one kept has no value at
#: all: heart rate, cadence and power (the watch's heart rate to the bike computer's ride).
#: Positions, elevation and distance are never taken: they are what places a track.
TAKEN_STREAMS = ("hr", "cadence", "power")

#: A taken value is interpolated linearly in time between the giver's two readings around
#: the point when they are at most this far apart (a reading exactly at the point's time
#: is taken as it is); elsewhere (a pause, before or after the giver's recording) the
#: point gets none.
TAKE_GAP_S = 10.0


class EditError(ValueError):
    """Edits that cannot apply to this track (a sentence for the person)."""


def apply(track: Track, edits: dict | None) -> Track:
    """The track with `edits` applied; the same object when there are none."""
    if not edits:
        return track
    if not track.has("time"):
        raise EditError("This activity has no times, so it cannot be cropped or split.")
    time = track.columns["time"]
    keep = ~np.isnan(time)
    crop = edits.get("crop")
    if crop is not None:
        keep &= (time >= crop[0]) & (time <= crop[1])
    starts = np.zeros(track.n, dtype=bool)
    starts[list(track.segment_starts)] = True
    for first, last in edits.get("remove", ()):
        inside = (time > first) & (time < last)
        keep &= ~inside
        after = np.flatnonzero(~np.isnan(time) & (time >= last))
        if inside.any() and len(after):
            starts[after[0]] = True
    kept = np.flatnonzero(keep)
    # A kept point starts a segment when a start lies after the point kept before it, up
    # to itself: a start that was removed passes to the next point kept.
    count = np.cumsum(starts)
    before = np.concatenate(([0], count[kept[:-1]])) if len(kept) else kept
    boundary = count[kept] - before > 0
    if len(kept):
        boundary[0] = True
    segment_starts = tuple(np.flatnonzero(boundary).tolist())
    return dataclasses.replace(
        track, columns={name: values[kept] for name, values in track.columns.items()},
        segment_starts=segment_starts or (0,), sessions=(), laps=())


def span(track: Track) -> tuple[float, float]:
    """The first and last timestamps of a track, or EditError without any."""
    time = track.columns["time"]
    timed = time[~np.isnan(time)]
    if len(timed) == 0:
        raise EditError("This activity has no times, so it cannot be cropped or split.")
    return float(timed.min()), float(timed.max())


def cropped(edits: dict, track: Track, start_s: float, end_s: float) -> dict:
    """`edits` cropped further to [start_s, end_s], seconds from the start of `track`
    (the current revision's, as its pages show it)."""
    first, last = span(track)
    if not (0 <= start_s < end_s):
        raise EditError("The crop must start at 0 s or later and end after it starts.")
    if start_s > last - first:
        raise EditError(f"The activity lasts {last - first:.0f} s: a crop cannot start "
                        f"after that.")
    new = {**edits, "crop": [first + start_s, min(first + end_s, last)]}
    if np.count_nonzero(_timed_in(track, *new["crop"])) < 2:
        raise EditError("That crop keeps fewer than two points.")
    return new


def removed(edits: dict, track: Track, from_s: float, to_s: float) -> dict:
    """`edits` with the stretch (from_s, to_s) of `track` left out as well."""
    first, _ = span(track)
    if not (0 <= from_s < to_s):
        raise EditError("A stretch to remove must start at 0 s or later and end after it "
                        "starts.")
    stretch = [first + from_s, first + to_s]
    new = {**edits, "remove": sorted([*edits.get("remove", []), stretch])}
    if apply(track, {"remove": [stretch]}).n < 2:
        raise EditError("Removing that stretch leaves fewer than two points.")
    return new


def split(edits: dict, track: Track, at_s: float) -> tuple[dict, dict]:
    """`edits` for the two activities a split at `at_s` seconds makes: the first up to the
    first point at or after it, the second from that point on. Both keep that point, so
    that their distances and times add up to the whole's."""
    first, last = span(track)
    time = track.columns["time"]
    at = first + at_s
    later = time[~np.isnan(time) & (time >= at)]
    if at_s <= 0 or len(later) == 0 or later.min() >= last:
        raise EditError(f"A split must fall inside the activity (after 0 s and before "
                        f"{last - first:.0f} s).")
    point = float(later.min())
    crop = edits.get("crop") or [first, last]
    return {**edits, "crop": [crop[0], point]}, {**edits, "crop": [point, crop[1]]}


def _timed_in(track: Track, first: float, last: float) -> np.ndarray:
    time = track.columns["time"]
    return (time >= first) & (time <= last)


def own(edits: dict | None) -> dict:
    """The edits that cut the track itself (crop, removals), without a merge's `take`."""
    return {name: value for name, value in (edits or {}).items() if name != "take"}


def takeable(track: Track, giver: Track) -> list[str]:
    """The streams of TAKEN_STREAMS that `track` has no value of and `giver` has, in that
    order; none when either has no times (nothing aligns them)."""
    if not (_timed(track) and _timed(giver)):
        return []
    return [name for name in TAKEN_STREAMS if not _holds(track, name) and _holds(giver, name)]


def take(track: Track, giver: Track, streams: list[str]) -> Track:
    """`track` with each of `streams` taken from `giver`, aligned by timestamp (TAKE_GAP_S);
    a stream the track already holds a value of is left as it is."""
    wanted = [name for name in streams if name in takeable(track, giver)]
    if not wanted:
        return track
    time = track.columns["time"]
    columns = dict(track.columns)
    for name in wanted:
        columns[name] = _aligned(time, giver.columns["time"], giver.columns[name])
    return dataclasses.replace(track, columns=columns)


def _aligned(time: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`values` recorded at times `at`, read at times `time`: interpolated between the two
    readings around each time when they are at most TAKE_GAP_S apart, else NaN."""
    known = ~np.isnan(at) & ~np.isnan(values)
    order = np.argsort(at[known], kind="stable")
    at, values = at[known][order], values[known][order]
    out = np.full(len(time), np.nan)
    timed = ~np.isnan(time)
    t = time[timed]
    right = np.searchsorted(at, t, side="left")  # first reading at or after t
    inside = right < len(at)
    exact = inside & (at[np.minimum(right, len(at) - 1)] == t)
    left = right - 1
    between = inside & ~exact & (left >= 0)
    lo, hi = np.maximum(left, 0), np.minimum(right, len(at) - 1)
    between &= (at[hi] - at[lo]) <= TAKE_GAP_S
    read = np.full(len(t), np.nan)
    read[exact] = values[hi[exact]]
    span = np.where(between, at[hi] - at[lo], 1.0)
    share = np.where(between, (t - at[lo]) / span, 0.0)
    read[between] = (values[lo] + (values[hi] - values[lo]) * share)[between]
    out[timed] = read
    return out


def _holds(track: Track, name: str) -> bool:
    return name in track.columns and track.has(name)


def _timed(track: Track) -> bool:
    return _holds(track, "time")
