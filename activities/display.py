"""Numbers as people read them, in the user's units: the server half of the pages' formatting
(static/activities/format.js is the browser half and must agree with it)."""

from __future__ import annotations

from activities.models import Profile
from core.derivers import charts

METRIC, IMPERIAL = Profile.Units.METRIC.value, Profile.Units.IMPERIAL.value
M_PER_MI = 1609.344
FT_PER_M = 1 / 0.3048
#: Below this a pace is minutes per step, not worth showing (the charts' stop speed).
MIN_PACE_SPEED_MPS = 0.5
NONE = "—"


def distance(metres: float | None, units: str) -> str:
    if metres is None:
        return NONE
    if units == IMPERIAL:
        return f"{metres / M_PER_MI:,.2f} mi"
    return f"{metres / 1000:,.2f} km"


def elevation(metres: float | None, units: str) -> str:
    if metres is None:
        return NONE
    if units == IMPERIAL:
        return f"{metres * FT_PER_M:,.0f} ft"
    return f"{metres:,.0f} m"


def speed(mps: float | None, units: str) -> str:
    if mps is None:
        return NONE
    if units == IMPERIAL:
        return f"{mps * 3600 / M_PER_MI:.1f} mph"
    return f"{mps * 3.6:.1f} km/h"


def pace(mps: float | None, units: str) -> str:
    """Time per kilometre or mile, as m:ss."""
    if mps is None or mps < MIN_PACE_SPEED_MPS:
        return NONE
    per = M_PER_MI if units == IMPERIAL else 1000
    seconds = round(per / mps)
    return f"{seconds // 60}:{seconds % 60:02d} /{'mi' if units == IMPERIAL else 'km'}"


def duration(seconds: float | None) -> str:
    """h:mm:ss, or m:ss under an hour."""
    if seconds is None:
        return NONE
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def is_pace_sport(sport: str | None) -> bool:
    """Runners and walkers read pace; the charts deriver decides the same way."""
    return bool(charts.PACE_SPORTS.search((sport or "").lower()))


def cadence(per_minute: float | None, sport: str | None) -> str:
    """A cadence as its sport counts it. Files store a runner's or walker's cadence per
    leg (FIT's cycles: one per stride); people count steps, twice as many. A rider's is
    pedal turns, rpm."""
    if per_minute is None:
        return NONE
    if is_pace_sport(sport):
        return f"{per_minute * 2:.0f} steps/min"
    return f"{per_minute:.0f} rpm"


def archive_outcome(progress: dict, *, finished: bool) -> str:
    """What came of an archive's files, in a sentence: "12 files, all already uploaded",
    "14 files: 3 imported, 9 already uploaded, 2 not activities" (static/activities/
    upload.js's archiveOutcome says the same)."""
    imported, duplicate, failed = (progress.get(k) or 0 for k in ("imported", "duplicate",
                                                                  "failed"))
    skipped, missing = progress.get("skipped") or 0, progress.get("missing") or 0
    seen, files = progress.get("seen") or 0, progress.get("files")
    others = f"; {_count(skipped, 'other file')} skipped" if skipped else ""
    if finished and duplicate and not imported and not failed and not missing:
        if duplicate == 1:
            return f"Its activity was already uploaded{others}."
        return f"{duplicate} files, all already uploaded{others}."
    parts = [f"{n} {words}" for n, words in (
        (imported, "imported"), (duplicate, "already uploaded"),
        (skipped, "not activities, skipped"), (failed, "could not be read"),
        (missing, "missing from the archive")) if n]
    head = (_count(files if files is not None else seen, "file") if finished
            else f"{seen} of {files if files is not None else '?'} files read")
    return f"{head}: {', '.join(parts)}." if parts else f"{head}."


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def progress_percent(progress: dict[str, bool]) -> int:
    """How far processing is, from the API's {step: done} (static/activities/poll.js's
    renderProgress counts the same way)."""
    return round(100 * sum(map(bool, progress.values())) / len(progress)) if progress else 0


def facts(summary: dict, units: str) -> list[tuple[str, str]]:
    """The summary as (label, value) rows, leaving out what the file did not record."""
    pace_sport = is_pace_sport(summary.get("sport"))
    rate = pace if pace_sport else speed
    parts = summary.get("parts")
    rows = [
        ("Distance", summary.get("distance_m"), lambda v: distance(v, units)),
        ("Elapsed time", summary.get("elapsed_s"), duration),
        # Only worth saying when the elapsed time adds up parts recorded apart.
        ("Recorded in", parts if parts and parts > 1 else None, lambda v: f"{v} parts"),
        ("Moving time", summary.get("moving_s"), duration),
        ("Ascent", summary.get("ascent_m"), lambda v: elevation(v, units)),
        ("Descent", summary.get("descent_m"), lambda v: elevation(v, units)),
        ("Average pace" if pace_sport else "Average speed", summary.get("avg_speed_mps"),
         lambda v: rate(v, units)),
        ("Best pace" if pace_sport else "Top speed", summary.get("max_speed_mps"),
         lambda v: rate(v, units)),
        ("Average heart rate", summary.get("avg_hr_bpm"), lambda v: f"{v:.0f} bpm"),
        ("Top heart rate", summary.get("max_hr_bpm"), lambda v: f"{v:.0f} bpm"),
        ("Average power", summary.get("avg_power_w"), lambda v: f"{v:.0f} W"),
        ("Top power", summary.get("max_power_w"), lambda v: f"{v:.0f} W"),
        ("Average cadence", summary.get("avg_cadence"),
         lambda v: cadence(v, summary.get("sport"))),
        ("Points recorded", summary.get("point_count"), lambda v: f"{v:,}"),
    ]
    return [(label, show(value)) for label, value, show in rows if value is not None]
