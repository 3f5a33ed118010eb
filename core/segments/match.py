"""Which passages of one activity's track ride a segment, start to end and in order.

The test (an equivalent of a discrete Fréchet distance under the tolerance, one-sided
where it matters and cheap to vectorise):

1. The track passes within the tolerance of the segment's start; the start crossing is
   the point of closest approach, projected onto the track's step (between points).
2. From there, every checkpoint of the segment (CHECKPOINT_M apart, so every point of
   the path is within tolerance + CHECKPOINT_M / 2 of the track) is passed within the
   tolerance, in order. A step between two recorded points counts as the straight line
   it is: a recording gap whose chord stays within the tolerance of the checkpoints it
   skips still matches; a long gap that cuts a corner does not (nothing shows the road
   was followed). A step across two parts of a track (trkseg, sessions) is judged alike.
3. No recorded point between the two crossings strays more than the tolerance from the
   segment's path (simplified to SIMPLIFY_M first, which that much more allows): a
   detour breaks the effort even when it comes back.
4. The end crossing is the closest approach to the segment's end, within the run of
   steps where the end is first passed (it is the last checkpoint of 2).
The reversed direction fails 2, a parallel road farther than the tolerance fails 1.
Each visit of the start (a run of steps within the tolerance of it) is tried in turn, so
laps give one effort each; a lap of a closed loop starts where the last one ended.
Efforts never overlap: a later visit that gives the same end re-times the effort (the
rider who turned back across the start is timed from the last crossing), any other one
inside an effort is dropped. Points without a usable position (no fix, GPS spikes:
geo.usable_positions) are left out first.

Cost, for n track points and a segment of m points and length L: a bounding-box reject
in O(n); then O(n) for the distances to the start and end, O(n_near x m') for the stray
test (n_near points in the segment's box, m' points of the path simplified to
SIMPLIFY_M), and for each start visit O(L / CHECKPOINT_M x WINDOW_STEPS) in blocks
(more only where a rider lingers on the path). A 3,600-point track on a 3 km segment
takes a few milliseconds; a 40 km stretch of a 4,700-point ride, matched on that ride,
about 0.25 s (the stray test dominates long segments).

A rider who waits at the start (or the end) within the tolerance is timed from the
closest fix of the wait, which GPS scatter places anywhere in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core import geo, motion, simplify
from core.segments import plane
from core.segments.effort import Crossing, Effort, measure
from core.segments.shape import Segment
from core.track import Track

#: The version of what matching finds: bump it with any change here, in effort.py or in
#: plane.py that changes which efforts a track has or how they are timed, and every
#: activity is matched again (segments.outdated).
VERSION = 1

#: Spacing of the checkpoints that must be passed in order (metres).
CHECKPOINT_M = 5.0
#: The path is simplified this far (metres) before the stray test, which allows it.
SIMPLIFY_M = 1.0
#: Checkpoints judged together, and the steps first searched for them: most are found
#: within a few steps of the previous one; a block that is not is searched to the end.
BLOCK = 32
WINDOW_STEPS = 512
#: Metres per degree of latitude, for the bounding-box reject.
_M_PER_DEG = np.radians(1.0) * geo.EARTH_RADIUS_M


#: Where on a track: (step of the kept points, fraction of the way along it).
Where = tuple[int, float]
_NOWHERE: Where = (-1, 0.0)


@dataclass(frozen=True, eq=False)
class Prepared:
    """What matching reads of a track whatever the segment: its kept points (usable
    positions with a time), so that one track matched against many segments works them
    out once (`prepare`); the result is the same as without."""

    track: Track
    keep: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    _steps: list = field(default_factory=list)

    def steps(self) -> motion.Steps:
        if not self._steps:
            self._steps.append(motion.moving_steps(self.track))
        return self._steps[0]


def prepare(track: Track) -> Prepared:
    clock = motion.monotonic(track.time)
    keep = np.flatnonzero(geo.usable_positions(track.lat, track.lon, time=clock))
    keep = keep[np.isfinite(clock[keep])]
    return Prepared(track=track, keep=keep, lat=track.lat[keep], lon=track.lon[keep])


def match(track: Track, segment: Segment, *, tolerance_m: float = 25.0,
          prepared: Prepared | None = None) -> list[Effort]:
    """The efforts of `track` over `segment`, in the order ridden (see the module);
    `prepared`: prepare(track), when the track is matched against many segments."""
    prepared = prepared if prepared is not None else prepare(track)
    keep, lat, lon = prepared.keep, prepared.lat, prepared.lon
    box = _grown_box(segment, margin_m=tolerance_m)
    if len(keep) < 2 or not _crosses(lat, lon, box, steps=True).any():
        return []
    near = _crosses(lat, lon, box, steps=False)
    geometry = _Geometry.of(lat, lon, segment, near=near, tolerance_m=tolerance_m)
    found: list[tuple[Where, Where]] = []
    for run in _runs(geometry.to_start <= tolerance_m):
        last_end = found[-1][1] if found else _NOWHERE
        # A visit of the start wholly inside the last effort may only re-time it: a rider
        # who turned back across the start is timed from the last crossing.
        inside = run.stop <= last_end[0]
        passage = geometry.passage(run, after=_NOWHERE if inside else last_end)
        if passage is None:
            continue
        if found and passage[1] == last_end:
            found[-1] = passage
        elif passage[0] >= last_end:
            found.append(passage)
    if not found:
        return []
    steps = prepared.steps()
    return [measure(track, start=_crossing(keep, begin), end=_crossing(keep, end),
                    distance_m=segment.distance_m, steps=steps) for begin, end in found]


@dataclass(frozen=True, kw_only=True)
class _Geometry:
    """The track's kept points (x, y) and the segment's checkpoints (cx, cy) in one plane,
    with what every visit of the start needs: the strays' indices, the distance to the
    segment's start and end of each step and where along the step it is nearest."""

    x: np.ndarray
    y: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    far: np.ndarray
    to_start: np.ndarray
    at_start: np.ndarray
    to_end: np.ndarray
    at_end: np.ndarray
    tolerance_m: float

    @classmethod
    def of(cls, lat: np.ndarray, lon: np.ndarray, segment: Segment, *, near: np.ndarray,
           tolerance_m: float) -> _Geometry:
        about = ((segment.bbox["min_lat"] + segment.bbox["max_lat"]) / 2,
                 (segment.bbox["min_lon"] + segment.bbox["max_lon"]) / 2)
        x, y = geo.project_m(lat, lon, about=about)
        sx, sy = geo.project_m(segment.lat, segment.lon, about=about)
        cx, cy = plane.checkpoints(sx, sy, spacing_m=CHECKPOINT_M)
        far = np.flatnonzero(_strays(x, y, sx, sy, near=near, tolerance_m=tolerance_m))
        to_start, at_start = plane.to_steps(cx[0], cy[0], x, y)
        to_end, at_end = plane.to_steps(cx[-1], cy[-1], x, y)
        return cls(x=x, y=y, cx=cx, cy=cy, far=far, to_start=to_start, at_start=at_start,
                   to_end=to_end, at_end=at_end, tolerance_m=tolerance_m)

    def passage(self, run: slice, *, after: Where) -> tuple[Where, Where] | None:
        """(start, end) crossings of a passage over the segment from the visit of its start
        `run` (steps), at or after `after`; None when the track does not ride it."""
        low = max(run.start, after[0])
        if low >= run.stop:
            return None
        first = low + int(np.argmin(self.to_start[low:run.stop]))
        begin = max((first, float(self.at_start[first])), after)
        # The passage must end before the first point that strays after its start.
        later = self.far[self.far > first]
        stop = int(later[0]) if len(later) else len(self.x) - 1
        reached = _pass_in_order(self.cx[1:], self.cy[1:], self.x, self.y, first=first,
                                 stop=stop, tolerance_m=self.tolerance_m)
        if reached is None:
            return None
        to_end = self.to_end[reached:stop]
        end_run = _runs(to_end <= self.tolerance_m)[0]
        last = reached + end_run.start + int(np.argmin(to_end[end_run]))
        end = (last, float(self.at_end[last]))
        return (begin, end) if end > begin else None


def _crossing(keep: np.ndarray, where: Where) -> Crossing:
    """A crossing on step `where[0]` of the kept points, in the track's own indices."""
    step, fraction = where
    return Crossing(int(keep[step]), int(keep[step + 1]), fraction)


def _grown_box(segment: Segment, *, margin_m: float) -> dict[str, float]:
    """The segment's bounding box grown by `margin_m` (at least) each way."""
    box = segment.bbox
    dlat = margin_m / _M_PER_DEG
    # The poleward edge's scale: a degree of longitude is shortest there.
    dlon = dlat / max(np.cos(np.radians(max(abs(box["min_lat"]), abs(box["max_lat"])))), 1e-6)
    return {"min_lat": box["min_lat"] - dlat, "max_lat": box["max_lat"] + dlat,
            "min_lon": box["min_lon"] - dlon, "max_lon": box["max_lon"] + dlon}


def _crosses(lat: np.ndarray, lon: np.ndarray, box: dict[str, float], *,
             steps: bool) -> np.ndarray:
    """Mask of the steps whose own boxes meet `box` (a sparse track's steps may cross it
    with no point inside), or with steps=False of the points inside it."""
    if steps:
        low_lat, high_lat = np.minimum(lat[:-1], lat[1:]), np.maximum(lat[:-1], lat[1:])
        low_lon, high_lon = np.minimum(lon[:-1], lon[1:]), np.maximum(lon[:-1], lon[1:])
    else:
        low_lat = high_lat = lat
        low_lon = high_lon = lon
    return ((high_lat >= box["min_lat"]) & (low_lat <= box["max_lat"])
            & (high_lon >= box["min_lon"]) & (low_lon <= box["max_lon"]))


def _strays(x: np.ndarray, y: np.ndarray, sx: np.ndarray, sy: np.ndarray, *,
            near: np.ndarray, tolerance_m: float) -> np.ndarray:
    """Mask of the track's points farther than the tolerance from the segment's path."""
    kept, error = simplify.douglas_peucker(sx, sy, starts=(0,), max_points=len(sx),
                                           tolerance=SIMPLIFY_M)
    strays = ~near  # outside the grown box is farther than the tolerance
    inside = np.flatnonzero(near)
    strays[inside] = plane.to_path(x[inside], y[inside], sx[kept], sy[kept]) > (
        tolerance_m + error)
    return strays


def _runs(mask: np.ndarray) -> list[slice]:
    """The runs of True in `mask`, as slices, in order."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [slice(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def _pass_in_order(cx: np.ndarray, cy: np.ndarray, x: np.ndarray, y: np.ndarray, *,
                   first: int, stop: int, tolerance_m: float) -> int | None:
    """The step at which the last checkpoint is passed, each checkpoint passed within the
    tolerance at or after the step of the one before, from step `first` on and before
    step `stop`; None when one is not. Earliest first: if any order-keeping assignment
    exists, this greedy one does."""
    at = first
    for block in range(0, len(cx), BLOCK):
        part = slice(block, block + BLOCK)
        found = _chain(cx[part], cy[part], x, y, first=at, stop=min(stop, at + WINDOW_STEPS),
                       tolerance_m=tolerance_m)
        if found is None and at + WINDOW_STEPS < stop:
            found = _chain(cx[part], cy[part], x, y, first=at, stop=stop,
                           tolerance_m=tolerance_m)
        if found is None:
            return None
        at = found
    return at


def _chain(cx: np.ndarray, cy: np.ndarray, x: np.ndarray, y: np.ndarray, *, first: int,
           stop: int, tolerance_m: float) -> int | None:
    """`_pass_in_order` for one block of checkpoints, over the steps first..stop-1."""
    count = stop - first
    if count <= 0:
        return None
    passed = plane.to_steps(cx, cy, x[first:stop + 1], y[first:stop + 1])[0] <= tolerance_m
    # next_pass[k, i]: the first step at or after i where checkpoint k is passed.
    next_pass = np.where(passed, np.arange(count), count)
    next_pass = np.minimum.accumulate(next_pass[:, ::-1], axis=1)[:, ::-1]
    at = 0
    for row in next_pass:
        at = row[at]
        if at == count:
            return None
    return first + int(at)
