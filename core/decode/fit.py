"""FIT bytes -> Track: the record stream and the device's own session totals, in one pass."""

from __future__ import annotations

import math
from array import array
from dataclasses import dataclass, field

import numpy as np
from fitparse.utils import FitEOFError, FitHeaderError

from core import geo
from core.decode import DecodeError
from core.decode.fitfile import FIT_EPOCH, FitFile
from core.track import Session, Track

_SEMICIRCLE_DEG = 180.0 / 2**31

#: Track column -> record fields that fill it, the first present one winning.
_RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "time": ("timestamp",),
    "lat": ("position_lat",),
    "lon": ("position_long",),
    "ele": ("enhanced_altitude", "altitude"),
    "dist": ("distance",),
    "speed": ("enhanced_speed", "speed"),
    "hr": ("heart_rate",),
    "cadence": ("cadence",),
    "power": ("power",),
}

#: file_id.type -> how to name it in "This FIT file is ..., not a recorded activity."
_FILE_KINDS = {
    "course": "a course",
    "settings": "a settings file",
    "sport": "a sport settings file",
    "workout": "a workout plan",
    "schedules": "a training schedule",
    "weight": "a weight-scale file",
    "totals": "a totals file",
    "goals": "a goals file",
    "blood_pressure": "a blood-pressure file",
    "monitoring_a": "a daily monitoring file",
    "monitoring_b": "a daily monitoring file",
    "monitoring_daily": "a daily monitoring file",
    "activity_summary": "an activity summary without its recording",
    "device": "a device description",
    "segment": "a segment",
    "segment_list": "a segment list",
}


@dataclass
class _Scan:
    """What one pass over the messages found."""

    # array("d"): 8 bytes a value where a list of floats takes 32; a day's ride is 10^5 rows.
    columns: dict[str, array] = field(
        default_factory=lambda: {name: array("d") for name in _RECORD_FIELDS})
    file_starts: list[int] = field(default_factory=list)  # first record of each chained file
    file_types: list[object] = field(default_factory=list)
    sessions: list[Session] = field(default_factory=list)
    laps: list[Session] = field(default_factory=list)  # a lap's totals read as a session's
    sports: list[str] = field(default_factory=list)  # from `sport` messages


# Reading choices:
# * A bad file CRC alone is not fatal (check_crc=False in fitfile.FitFile). Every message
#   must still decode against its definition and the byte counts in the headers must add
#   up, which catches truncation and most damage; tools that edit or re-export FIT files
#   leave stale CRCs, and refusing those activities would help nobody. Values are
#   range-checked whatever the CRC says.
# * Truncated files are refused (CorruptFile), not salvaged: the device's totals come at
#   the end, and a partial read would give a summary nobody can check.
# * Developer fields are skipped; a standard field that cannot be read is left out rather
#   than failing the file (see fitfile.py).
def decode(content: bytes) -> Track:
    """FIT file bytes -> Track, or DecodeError (CorruptFile, NotAnActivity, NoPoints)."""
    if not content:
        raise DecodeError("The file is empty.", code="CorruptFile")
    try:
        scan = _scan(content)
    except FitEOFError as error:
        raise DecodeError(f"This FIT file is truncated: it ends in the middle of a message "
                          f"({error}).", code="CorruptFile") from None
    except FitHeaderError as error:
        raise DecodeError(f"This FIT file has a corrupt header ({error}).",
                          code="CorruptFile") from None
    except MemoryError:
        raise  # not the file's corruption: the track deriver says so
    except Exception as error:  # fitparse lets struct, key and value errors through too
        raise DecodeError(f"This FIT file is corrupt and cannot be read "
                          f"({type(error).__name__}: {error}).", code="CorruptFile") from None
    _check_is_activity(scan)
    return _build(scan)


def _scan(content: bytes) -> _Scan:
    fit = FitFile(content)
    scan = _Scan()
    n_records = 0
    files_seen = fit.headers_read
    for message in fit.data_messages():
        name = message.name
        if name == "record":
            if fit.headers_read != files_seen:
                files_seen = fit.headers_read
                scan.file_starts.append(n_records)
            _add_record(scan.columns, _values(message))
            n_records += 1
        elif name == "session":
            scan.sessions.append(_session(_values(message)))
        elif name == "lap":
            scan.laps.append(_session(_values(message)))
        elif name == "file_id":
            scan.file_types.append(message.get_value("type"))
        elif name == "sport":
            sport = message.get_value("sport")
            if isinstance(sport, str):
                scan.sports.append(sport)
    return scan


def _values(message) -> dict[str, object]:
    """Field name -> value for the message's standard fields, first non-missing one kept."""
    values: dict[str, object] = {}
    for field_data in message.fields:
        # Developer fields may be named like standard ones ("power"): never read them.
        if field_data.value is not None and field_data.field_type != "devfield":
            values.setdefault(field_data.name, field_data.value)
    return values


def _add_record(columns: dict[str, array], values: dict[str, object]) -> None:
    for column, names in _RECORD_FIELDS.items():
        value = math.nan
        for name in names:
            value = _number(values.get(name))
            if not math.isnan(value):
                break
        columns[column].append(value)
    columns["time"][-1] += FIT_EPOCH
    columns["lat"][-1] *= _SEMICIRCLE_DEG
    columns["lon"][-1] *= _SEMICIRCLE_DEG
    fraction = _number(values.get("fractional_cadence"))
    if not math.isnan(fraction):
        columns["cadence"][-1] += fraction


def _session(values: dict[str, object]) -> Session:
    max_speed = _optional(values.get("enhanced_max_speed"))
    return Session(
        sport=_name(values.get("sport")),
        sub_sport=_name(values.get("sub_sport")),
        start_time=_time(values.get("start_time")),
        elapsed_s=_optional(values.get("total_elapsed_time")),
        timer_s=_optional(values.get("total_timer_time")),
        distance_m=_optional(values.get("total_distance")),
        ascent_m=_optional(values.get("total_ascent")),
        descent_m=_optional(values.get("total_descent")),
        avg_hr=_optional(values.get("avg_heart_rate")),
        max_hr=_optional(values.get("max_heart_rate")),
        max_speed_mps=max_speed if max_speed is not None
        else _optional(values.get("max_speed")),
    )


def _check_is_activity(scan: _Scan) -> None:
    types = [t for t in scan.file_types if t is not None]
    # A chained file may add settings after the activity; one activity part is enough.
    if types and "activity" not in types:
        kind = types[0]
        what = _FILE_KINDS.get(kind) if isinstance(kind, str) else None
        what = what or f"of type {kind}"
        raise DecodeError(f"This FIT file is {what}, not a recorded activity.",
                          code="NotAnActivity")
    if not scan.columns["time"]:
        raise DecodeError("This FIT activity holds no recorded points.", code="NoPoints")


def _build(scan: _Scan) -> Track:
    columns = {name: np.array(values, dtype=np.float64) for name, values in scan.columns.items()}
    bad = ~geo.valid_positions(columns["lat"], columns["lon"])
    columns["lat"][bad] = np.nan
    columns["lon"][bad] = np.nan
    sport, sub_sport = _sport(scan)
    return Track(
        format="fit",
        sport=sport,
        sub_sport=sub_sport,
        columns=columns,
        segment_starts=_segment_starts(columns["time"], scan),
        sessions=tuple(scan.sessions),
        laps=tuple(scan.laps),
    )


def _segment_starts(time: np.ndarray, scan: _Scan) -> tuple[int, ...]:
    """0, each chained file's first record, and the first record of each session."""
    starts = {0, *scan.file_starts}
    for session in scan.sessions:
        if session.start_time is None:
            continue
        with np.errstate(invalid="ignore"):
            after = np.flatnonzero(time >= session.start_time)
        if len(after):
            starts.add(int(after[0]))
    return tuple(sorted(s for s in starts if s < len(time)))


def _sport(scan: _Scan) -> tuple[str | None, str | None]:
    """The sessions' sport; "multisport" when they differ (transitions aside)."""
    sessions = [s for s in scan.sessions if s.sport and s.sport != "transition"]
    if len({s.sport for s in sessions}) > 1:
        return "multisport", None
    if sessions:
        return sessions[0].sport, sessions[0].sub_sport
    sports = [s for s in scan.sports if s != "transition"]
    return (sports[0] if sports else None), None


def _number(value: object) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return math.nan  # missing, an array, or a value fitparse could not scale


def _optional(value: object) -> float | None:
    number = _number(value)
    return None if math.isnan(number) else number


def _time(value: object) -> float | None:
    number = _optional(value)
    return None if number is None else number + FIT_EPOCH


def _name(value: object) -> str | None:
    return value if isinstance(value, str) else None  # an int is a value the profile lacks
