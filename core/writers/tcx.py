"""TCX (Garmin's Training Center Database v2): one <Activity>, one <Lap> per segment with
its time and distance, speed and power in the ActivityExtension (v2). Every trackpoint
needs a <Time>: a point without one is left out, a track without any refused. TCX has no
field for a name: it goes first in <Notes>, above the description."""

from __future__ import annotations

from xml.sax.saxutils import escape

from core.track import Track
from core.writers import Meta, WriteError
from core.writers.points import Point, iso, number, timed_segments

#: Cairn's sport -> TCX's Sport attribute (it knows only these two, and Other).
_SPORTS = {"running": "Running", "cycling": "Biking"}
_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<TrainingCenterDatabase '
         'xmlns="http://www.garmin.com/xmlschemas/TrainingCenterDatabase/v2" '
         'xmlns:ns3="http://www.garmin.com/xmlschemas/ActivityExtension/v2">\n'
         '  <Activities>\n')


def write(track: Track, meta: Meta) -> bytes:
    laps = timed_segments(track)
    if not laps:
        raise WriteError("This activity has no times, and every point of a TCX file needs "
                         "one: export it as GPX.")
    sport = _SPORTS.get(meta.sport or "", "Other")
    out = [_HEAD, f'    <Activity Sport="{sport}">\n',
           f"      <Id>{iso(laps[0][0].time)}</Id>\n"]
    running = "RunCadence" if sport == "Running" else None
    for points in laps:
        out.append(_lap(points, running))
    notes = "\n\n".join(text for text in (meta.name, meta.description) if text)
    if notes:
        out.append(f"      <Notes>{escape(notes)}</Notes>\n")
    out.append("    </Activity>\n  </Activities>\n</TrainingCenterDatabase>\n")
    return "".join(out).encode()


def _lap(points: list[Point], run_cadence: str | None) -> str:
    seconds = points[-1].time - points[0].time
    distances = [p.dist for p in points if p.dist is not None]
    head = [f'      <Lap StartTime="{iso(points[0].time)}">\n',
            f"        <TotalTimeSeconds>{number(seconds, 3)}</TotalTimeSeconds>\n"]
    if len(distances) > 1:
        head.append(f"        <DistanceMeters>{number(distances[-1] - distances[0], 2)}"
                    "</DistanceMeters>\n")
    head.append("        <Intensity>Active</Intensity>\n"
                "        <TriggerMethod>Manual</TriggerMethod>\n        <Track>\n")
    body = [_point(p, run_cadence) for p in points]
    return "".join(head + body) + "        </Track>\n      </Lap>\n"


def _point(p: Point, run_cadence: str | None) -> str:
    inner = [f"<Time>{iso(p.time)}</Time>"]
    if p.placed:
        inner.append(f"<Position><LatitudeDegrees>{number(p.lat, 7)}</LatitudeDegrees>"
                     f"<LongitudeDegrees>{number(p.lon, 7)}</LongitudeDegrees></Position>")
    if p.ele is not None:
        inner.append(f"<AltitudeMeters>{number(p.ele, 2)}</AltitudeMeters>")
    if p.dist is not None:
        inner.append(f"<DistanceMeters>{number(p.dist, 2)}</DistanceMeters>")
    if p.hr is not None:
        inner.append(f"<HeartRateBpm><Value>{round(p.hr)}</Value></HeartRateBpm>")
    if p.cadence is not None and run_cadence is None:
        inner.append(f"<Cadence>{round(p.cadence)}</Cadence>")
    extension = []
    if p.speed is not None:
        extension.append(f"<ns3:Speed>{number(p.speed, 3)}</ns3:Speed>")
    if p.cadence is not None and run_cadence is not None:
        extension.append(f"<ns3:RunCadence>{round(p.cadence)}</ns3:RunCadence>")
    if p.power is not None:
        extension.append(f"<ns3:Watts>{round(p.power)}</ns3:Watts>")
    if extension:
        inner.append("<Extensions><ns3:TPX>" + "".join(extension) + "</ns3:TPX></Extensions>")
    return "          <Trackpoint>" + "".join(inner) + "</Trackpoint>\n"
