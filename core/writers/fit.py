"""FIT activity files, encoded by Garmin's own FIT SDK (garmin-fit-sdk): file id, a timer
start, one record per timed point, and per segment a lap and a session with their
totals, then the activity. Several segments are several sessions, as Cairn reads them
back. A point without a time cannot be a record and is left out. The name goes in a
`sport` message (FIT's only name for an activity); FIT has no field for a description.

FIT stores times in whole seconds: two points within one second keep one timestamp each
(their order kept), which is the format's own precision."""

from __future__ import annotations

from core.track import Track
from core.writers import Meta, WriteError
from core.writers.points import Point, timed_segments, utc

#: Degrees -> FIT semicircles.
_SEMICIRCLES = 2**31 / 180
#: Longest name a sport message's name field holds here (bytes, its terminator aside).
_NAME_BYTES = 63


def write(track: Track, meta: Meta) -> bytes:
    from garmin_fit_sdk import Encoder, Profile

    parts = timed_segments(track)
    if not parts:
        raise WriteError("This activity has no times, and every record of a FIT file "
                         "needs one: export it as GPX.")
    number = Profile["mesg_num"]
    sport = meta.sport if meta.sport in Profile["types"]["sport"].values() else "generic"
    first, last = utc(parts[0][0].time), utc(parts[-1][-1].time)
    encoder = Encoder()
    encoder.on_mesg(number["FILE_ID"], {"type": "activity", "manufacturer": "development",
                                        "product": 0, "time_created": first})
    if meta.name:
        encoder.on_mesg(number["SPORT"], {"sport": sport, "name": _clipped(meta.name)})
    encoder.on_mesg(number["EVENT"], {"timestamp": first, "event": "timer",
                                      "event_type": "start"})
    timer_s = 0.0
    for index, points in enumerate(parts):
        for point in points:
            encoder.on_mesg(number["RECORD"], _record(point))
        totals = _totals(points)
        timer_s += totals["total_timer_time"]
        encoder.on_mesg(number["LAP"], {**totals, "event": "lap", "event_type": "stop",
                                        "message_index": index})
        encoder.on_mesg(number["SESSION"], {**totals, "event": "session",
                                            "event_type": "stop", "sport": sport,
                                            "first_lap_index": index, "num_laps": 1,
                                            "message_index": index})
    encoder.on_mesg(number["EVENT"], {"timestamp": last, "event": "timer",
                                      "event_type": "stop_all"})
    encoder.on_mesg(number["ACTIVITY"], {"timestamp": last, "num_sessions": len(parts),
                                         "type": "manual", "event": "activity",
                                         "event_type": "stop", "total_timer_time": timer_s})
    return bytes(encoder.close())


def _record(p: Point) -> dict:
    record: dict = {"timestamp": utc(p.time)}
    if p.placed:
        record["position_lat"] = round(p.lat * _SEMICIRCLES)
        record["position_long"] = round(p.lon * _SEMICIRCLES)
    for field, value in (("enhanced_altitude", p.ele), ("distance", p.dist),
                         ("enhanced_speed", p.speed)):
        if value is not None:
            record[field] = float(value)
    for field, value in (("heart_rate", p.hr), ("cadence", p.cadence), ("power", p.power)):
        if value is not None:
            record[field] = round(value)
    return record


def _totals(points: list[Point]) -> dict:
    start, end = utc(points[0].time), utc(points[-1].time)
    seconds = points[-1].time - points[0].time
    totals = {"timestamp": end, "start_time": start, "total_elapsed_time": seconds,
              "total_timer_time": seconds}
    distances = [p.dist for p in points if p.dist is not None]
    if len(distances) > 1:
        totals["total_distance"] = distances[-1] - distances[0]
    placed = [p for p in points if p.placed]
    if placed:
        totals["start_position_lat"] = round(placed[0].lat * _SEMICIRCLES)
        totals["start_position_long"] = round(placed[0].lon * _SEMICIRCLES)
    return totals


def _clipped(name: str) -> str:
    encoded = name.encode()[:_NAME_BYTES]
    return encoded.decode(errors="ignore")


