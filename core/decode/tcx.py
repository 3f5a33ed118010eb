"""TCX bytes -> Track: Garmin Training Center XML, the format of Garmin's and Strava's
older exports.

Each <Activity> is a segment (its laps' tracks are one recording, a lap boundary is no
gap); each <Trackpoint> a point: <Time>, <Position>, <AltitudeMeters>, the device's
cumulative <DistanceMeters> (the `dist` column, used as a FIT file's record distance is),
<HeartRateBpm>, <Cadence> and, from Garmin's ActivityExtension (ns3:TPX), Speed, Watts and
RunCadence. An activity's laps give one Session: the device's totals summed over its laps
(distance, timer time) as a FIT session gives them, and each lap is one of the Track's
laps with its own totals (as FIT lap messages give them).

Safety as for GPX: a DOCTYPE or entity declaration is refused before anything parses, and
the parser keeps no more than one point's elements at a time, at most
MAX_POINT_ELEMENTS of them (a point with megabytes of extensions is refused, not read).
"""

from __future__ import annotations

import math
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

import numpy as np

from core import geo
from core.decode import DecodeError, gpx, gpxtime
from core.track import Session, Track

#: Elements one trackpoint may hold (a Garmin point has about 15), and elements between
#: two points (a lap's totals, the creator, notes): past either the file is refused.
MAX_POINT_ELEMENTS = 256
MAX_OTHER_ELEMENTS = 10_000
_FEED = 1 << 16

#: TCX Sport attribute -> Cairn's sport (FIT's names).
_SPORTS = {"running": "running", "biking": "cycling"}

#: Local name of a trackpoint's element -> column. A lap's <Cadence> is bike cadence;
#: RunCadence (ns3:TPX) is a runner's, in the same unit (per leg) as FIT's.
_POINT_COLUMNS = {
    "LatitudeDegrees": "lat",
    "LongitudeDegrees": "lon",
    "AltitudeMeters": "ele",
    "DistanceMeters": "dist",
    "Cadence": "cadence",
    "RunCadence": "cadence",
    "Speed": "speed",
    "Watts": "power",
}
_COLUMNS = ("lat", "lon", "ele", "dist", "speed", "hr", "cadence", "power")
_LAP_FIELDS = ("TotalTimeSeconds", "DistanceMeters", "MaximumSpeed")


def decode(content: bytes) -> Track:
    """TCX file bytes -> Track, or DecodeError (UnsafeXml, CorruptFile, NotAnActivity,
    NoPoints)."""
    text = gpx._text(content.removeprefix(b"\xef\xbb\xbf"), kind="TCX")
    if gpx._DECLARATION.search(text):
        raise DecodeError("This TCX file declares a DOCTYPE or entities, which Cairn refuses "
                          "to process for safety.", code="UnsafeXml")
    reader = _Reader()
    try:
        reader.read(text)
    except ParseError as error:
        raise DecodeError(f"This TCX file is not well-formed XML ({error}).",
                          code="CorruptFile") from None
    return reader.track()


class _Stop(Exception):
    """The activities are read; what follows is not a recording."""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


class _Reader:
    """One pass over the document's events, keeping only the open elements."""

    def __init__(self) -> None:
        self.times: list[str | None] = []
        self.columns: dict[str, list[float]] = {name: [] for name in _COLUMNS}
        self.starts: list[int] = []
        self.sports: list[str | None] = []
        self.sessions: list[Session] = []
        self.all_laps: list[Session | None] = []  # every activity's laps, in order
        self.laps: list[dict[str, float]] = []
        self.stack: list[Element] = []
        self.in_point = 0  # elements in the open trackpoint, 0 outside one
        self.others = 0

    def read(self, text: str) -> None:
        parser = XMLPullParser(events=("start", "end"))
        try:
            for offset in range(0, len(text), _FEED):
                parser.feed(text[offset:offset + _FEED])
                self._events(parser)
            parser.close()
            self._events(parser)
        except _Stop:
            pass

    def _events(self, parser: XMLPullParser) -> None:
        for event, element in parser.read_events():
            if event == "start":
                self._start(element)
            else:
                self._end(element)

    def _start(self, element: Element) -> None:
        local = _local(element.tag)
        if self.in_point:
            self.in_point += 1
            if self.in_point > MAX_POINT_ELEMENTS:
                raise DecodeError(f"A TCX trackpoint holds more than {MAX_POINT_ELEMENTS} "
                                  "elements; the file is refused.", code="CorruptFile")
        elif local == "Trackpoint":
            self.in_point, self.others = 1, 0
        else:
            self.others += 1
            if self.others > MAX_OTHER_ELEMENTS:
                raise DecodeError(f"This TCX file holds more than {MAX_OTHER_ELEMENTS} "
                                  "elements between two trackpoints; it is refused.",
                                  code="CorruptFile")
            if local == "Activity":
                self.starts.append(len(self.times))
                self.sports.append(_SPORTS.get((element.get("Sport") or "").lower()))
                self.laps = []
            elif local == "Lap":
                self.laps.append({"start": _start_time(element.get("StartTime"))})
            elif local in ("Courses", "Workouts"):
                # Plans, not recordings (schema order: after the activities).
                if not self.starts:
                    raise DecodeError("This TCX file is a course or workout, not a recorded "
                                      "activity.", code="NotAnActivity")
                raise _Stop
        self.stack.append(element)

    def _end(self, element: Element) -> None:
        self.stack.pop()
        local = _local(element.tag)
        parent = _local(self.stack[-1].tag) if self.stack else ""
        if self.in_point:
            if local != "Trackpoint":
                return  # read with its point
            self._point(element)
            self.in_point = 0
        elif parent == "Lap" and local in _LAP_FIELDS and self.laps:
            self.laps[-1][local] = _number(element.text)
        elif local == "Value" and parent in ("AverageHeartRateBpm", "MaximumHeartRateBpm") \
                and len(self.stack) > 1 and _local(self.stack[-2].tag) == "Lap" and self.laps:
            self.laps[-1][parent] = _number(element.text)
        elif local == "Activity":
            self.sessions.append(_session(self.laps, self.sports[-1]))
            self.all_laps.extend(_session([lap], self.sports[-1]) for lap in self.laps)
        if self.stack:
            self.stack[-1].remove(element)  # read: nothing keeps it

    def _point(self, point: Element) -> None:
        values: dict[str, float] = {}
        time = None
        for child in point.iter():
            local = _local(child.tag)
            if local == "Time":
                time = (child.text or "").strip()
            elif local == "HeartRateBpm":
                for value in child:
                    values.setdefault("hr", _number(value.text))
            elif local in _POINT_COLUMNS:
                column = _POINT_COLUMNS[local]
                number = _number(child.text)
                if not math.isnan(number):
                    values.setdefault(column, number)
        self.times.append(time)
        for name in _COLUMNS:
            self.columns[name].append(values.get(name, math.nan))

    def track(self) -> Track:
        if not self.times:
            raise DecodeError("This TCX file holds no trackpoints.", code="NoPoints")
        arrays = {name: np.array(values, dtype=np.float64)
                  for name, values in self.columns.items()}
        arrays["time"] = gpxtime.epochs(self.times)
        usable = geo.valid_positions(arrays["lat"], arrays["lon"])
        arrays["lat"][~usable] = np.nan
        arrays["lon"][~usable] = np.nan
        # An activity without points starts no segment.
        starts = sorted({s for s in self.starts if s < len(self.times)} | {0})
        sessions = tuple(s for s in self.sessions if s is not None)
        return Track(format="tcx", sport=next((s for s in self.sports if s), None),
                     columns=arrays, segment_starts=tuple(starts),
                     sessions=sessions if len(sessions) == len(self.sessions) else (),
                     laps=tuple(lap for lap in self.all_laps if lap is not None))


def _session(laps: list[dict[str, float]], sport: str | None) -> Session | None:
    """The device's totals for one activity, from its laps; None without laps, or laps
    without times and distances (nothing the points do not say)."""
    if not laps or all("TotalTimeSeconds" not in lap and "DistanceMeters" not in lap
                       for lap in laps):
        return None

    def total(name: str) -> float | None:
        values = [lap.get(name, math.nan) for lap in laps]
        return None if any(math.isnan(v) for v in values) else float(sum(values))

    timer = [lap.get("TotalTimeSeconds", math.nan) for lap in laps]
    hr = [(lap.get("AverageHeartRateBpm", math.nan), t) for lap, t in zip(laps, timer,
                                                                         strict=True)]
    avg_hr = None
    if all(math.isfinite(a) and math.isfinite(t) for a, t in hr) and sum(t for _, t in hr) > 0:
        avg_hr = sum(a * t for a, t in hr) / sum(t for _, t in hr)
    peaks = [lap.get("MaximumHeartRateBpm", math.nan) for lap in laps]
    speeds = [lap.get("MaximumSpeed", math.nan) for lap in laps]
    starts = [lap["start"] for lap in laps if math.isfinite(lap["start"])]
    return Session(
        sport=sport,
        start_time=min(starts) if starts else None,
        timer_s=total("TotalTimeSeconds"),
        distance_m=total("DistanceMeters"),
        avg_hr=avg_hr,
        max_hr=None if any(math.isnan(p) for p in peaks) else max(peaks),
        max_speed_mps=None if any(math.isnan(s) for s in speeds) else max(speeds),
    )


def _start_time(text: str | None) -> float:
    return float(gpxtime.epochs([text.strip() if text else None])[0])


def _number(text: str | None) -> float:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) else math.nan
