"""What the activity page shows under the charts: splits in the user's unit and time in
heart-rate zones from the user's maximum heart rate, read from the `splits` output."""

from __future__ import annotations

import json

from activities import display
from activities.models import Activity, Derived
from core import zones


def splits_output(activity: Activity) -> dict | None:
    """The stored `splits` output (a stale one still serves), None before it exists."""
    row = (Derived.objects.filter(activity=activity, deriver="splits", data__isnull=False)
           .exclude(status=Derived.Status.FAILED).values_list("data", flat=True).first())
    return json.loads(bytes(row)) if row is not None else None


def split_rows(output: dict | None, *, units: str, pace: bool) -> list[dict]:
    """One row per split, formatted; the unit follows the user's setting."""
    if not output:
        return []
    rows = []
    for split in output["mile" if units == display.IMPERIAL else "km"]:
        moving = split["moving_s"]
        mps = split["distance_m"] / moving if moving else None
        climb = split["elevation_change_m"]
        rows.append({
            "n": split["n"],
            "distance": display.distance(split["distance_m"], units),
            "time": display.duration(moving),
            "rate": display.pace(mps, units) if pace else display.speed(mps, units),
            "climb": display.NONE if climb is None
            else ("+" if climb >= 0.5 else "") + display.elevation(climb, units),
            "hr": display.NONE if split["avg_hr_bpm"] is None else f"{split['avg_hr_bpm']} bpm",
            # Bar length for the table's inline chart: this split's speed against the best.
            "mps": mps or 0.0,
        })
    fastest = max((row["mps"] for row in rows), default=0.0) or 1.0
    for row in rows:
        row["bar"] = round(100 * row["mps"] / fastest)
    return rows


def zone_rows(output: dict | None, max_hr: int | None) -> list[dict]:
    """Time in each zone, formatted; empty without heart rate or a maximum."""
    if not output or not max_hr:
        return []
    return [{"name": z["name"],
             "range": f"{z['low_bpm']}+ bpm" if z["high_bpm"] is None
             else (f"below {z['high_bpm']} bpm" if z["low_bpm"] == 0
                   else f"{z['low_bpm']}–{z['high_bpm'] - 1} bpm"),
             "time": display.duration(z["seconds"]), "percent": round(100 * z["share"])}
            for z in zones.time_in_zones(output.get("hr_histogram"), max_hr)]


def lap_rows(output: dict | None, *, units: str, pace: bool) -> list[dict]:
    """The device's laps, formatted; empty when the file had fewer than two."""
    rows = []
    for lap in (output or {}).get("laps", []):
        metres, seconds = lap["distance_m"], lap["timer_s"]
        mps = metres / seconds if metres and seconds else None
        rows.append({
            "n": lap["n"],
            "distance": display.distance(metres, units),
            "time": display.duration(seconds),
            "rate": display.pace(mps, units) if pace else display.speed(mps, units),
            "ascent": display.elevation(lap["ascent_m"], units),
            "hr": display.NONE if lap["avg_hr_bpm"] is None else f"{lap['avg_hr_bpm']} bpm",
        })
    return rows
