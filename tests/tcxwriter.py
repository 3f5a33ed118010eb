"""A small TCX writer: a decoded Track (a corpus FIT file's) as Garmin Training Center XML,
the way Garmin Connect converts its FIT files, so TCX decoding can be checked against
real recordings."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from xml.sax.saxutils import quoteattr

import numpy as np

from core.track import Track

_SPORTS = {"running": "Running", "cycling": "Biking"}
_NS = ('xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
       'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2"')


def stamp(seconds: float) -> str:
    moment = datetime.fromtimestamp(seconds, UTC)
    if seconds == int(seconds):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def from_track(track: Track, *, lap_totals: bool = False) -> bytes:
    """One <Activity> per segment, one <Lap> each; lap totals (timer time, distance) from
    the track's sessions when `lap_totals` and there is one session per segment, else left
    out (the decoder then reads the points' own DistanceMeters)."""
    segments = track.segments()
    sessions = track.sessions if len(track.sessions) == len(segments) else ()
    sport = _SPORTS.get(track.sport or "", "Other")
    activities = []
    for index, segment in enumerate(segments):
        times = track.time[segment]
        finite = times[~np.isnan(times)]
        start = stamp(float(finite[0])) if len(finite) else stamp(0.0)
        totals = ""
        if lap_totals and sessions:
            session = sessions[index]
            totals = (f"<TotalTimeSeconds>{session.timer_s}</TotalTimeSeconds>"
                      f"<DistanceMeters>{session.distance_m}</DistanceMeters>")
        points = "".join(_point(track, i) for i in range(segment.start, segment.stop))
        activities.append(
            f"<Activity Sport={quoteattr(sport)}><Id>{start}</Id>"
            f"<Lap StartTime={quoteattr(start)}>{totals}<Intensity>Active</Intensity>"
            f"<TriggerMethod>Manual</TriggerMethod><Track>{points}</Track></Lap></Activity>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<TrainingCenterDatabase {_NS}><Activities>{''.join(activities)}</Activities>"
            "</TrainingCenterDatabase>").encode()


def _point(track: Track, i: int) -> str:
    c = track.columns
    parts = ["<Trackpoint>"]
    if not math.isnan(c["time"][i]):
        parts.append(f"<Time>{stamp(float(c['time'][i]))}</Time>")
    if not (math.isnan(c["lat"][i]) or math.isnan(c["lon"][i])):
        parts.append(f"<Position><LatitudeDegrees>{c['lat'][i]:.7f}</LatitudeDegrees>"
                     f"<LongitudeDegrees>{c['lon'][i]:.7f}</LongitudeDegrees></Position>")
    for column, tag in (("ele", "AltitudeMeters"), ("dist", "DistanceMeters")):
        if not math.isnan(c[column][i]):
            parts.append(f"<{tag}>{c[column][i]:.2f}</{tag}>")
    if not math.isnan(c["hr"][i]):
        parts.append(f"<HeartRateBpm><Value>{c['hr'][i]:.0f}</Value></HeartRateBpm>")
    if not math.isnan(c["cadence"][i]):
        parts.append(f"<Cadence>{c['cadence'][i]:.0f}</Cadence>")
    extension = ""
    if not math.isnan(c["speed"][i]):
        extension += f"<ns3:Speed>{c['speed'][i]:.3f}</ns3:Speed>"
    if not math.isnan(c["power"][i]):
        extension += f"<ns3:Watts>{c['power'][i]:.0f}</ns3:Watts>"
    if extension:
        parts.append(f"<Extensions><ns3:TPX>{extension}</ns3:TPX></Extensions>")
    parts.append("</Trackpoint>")
    return "".join(parts)
