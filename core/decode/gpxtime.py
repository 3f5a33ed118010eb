"""GPX <time> texts -> epoch seconds, as core/decode/gpx.py computes them through gpxpy.

'YYYY-MM-DDTHH:MM:SSZ', the form nearly every device writes, is read in bulk with numpy;
the same with a fraction, one by one; anything else through gpxpy's parse_time and
gpx._epoch themselves.
"""

from __future__ import annotations

import math
import re
from datetime import date

import numpy as np
from gpxpy.gpxfield import TIME_TYPE

from core.decode import gpx

# The form nearly every device writes, read with numpy; anything else item by item.
_COMMON_TIME = re.compile(r"(\d{4}-\d\d-\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,15}))?Z\Z",
                          re.ASCII)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]  # of YYYY-MM-DDTHH:MM:SSZ
_SEPARATORS = {4: b"-", 7: b"-", 10: b"T", 13: b":", 16: b":", 19: b"Z"}


def epochs(texts: list[str | bytes | None]) -> np.ndarray:
    """<time> texts (str, or UTF-8 bytes) -> epoch seconds; NaN where missing, unreadable,
    or before GPS time began."""
    result = np.full(len(texts), np.nan)
    plain = np.array([len(t) == 20 if t else False for t in texts], dtype=bool)
    rows = np.flatnonzero(plain)
    picked = [texts[i] for i in rows]
    joined = b"".join(picked) if picked and isinstance(picked[0], bytes) else "".join(picked)
    if not joined.isascii():  # a multi-byte character: the slow way for every text
        plain[:], rows = False, rows[:0]
    if len(rows):
        joined = joined if isinstance(joined, bytes) else joined.encode()
        chars = np.frombuffer(joined, dtype=np.uint8).reshape(-1, 20)
        seconds, readable = _plain_epochs(chars)
        result[rows[readable]] = seconds[readable]
        plain[rows[~readable]] = False
    days: dict[str, int | None] = {}
    for i in np.flatnonzero(~plain):
        text = texts[i]
        result[i] = epoch(text.decode() if isinstance(text, bytes) else text, days)
    return result


def _plain_epochs(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    digits = chars[:, _DIGITS].astype(np.int32) - ord("0")
    readable = np.all((digits >= 0) & (digits <= 9), axis=1)
    for column, separator in _SEPARATORS.items():
        readable &= chars[:, column] == separator[0]
    year = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    month, day = digits[:, 4] * 10 + digits[:, 5], digits[:, 6] * 10 + digits[:, 7]
    hour, minute = digits[:, 8] * 10 + digits[:, 9], digits[:, 10] * 10 + digits[:, 11]
    second = digits[:, 12] * 10 + digits[:, 13]
    readable &= (hour < 24) & (minute < 60) & (second < 60)
    dates, inverse = np.unique(year.astype(np.int64) * 10000 + month * 100 + day,
                               return_inverse=True)
    day_numbers = np.zeros(len(dates), dtype=np.int64)
    for k, value in enumerate(dates.tolist()):
        try:  # datetime's own calendar, as gpxpy's datetime() call checks it
            day_numbers[k] = date(value // 10000, value // 100 % 100,
                                  value % 100).toordinal() - _EPOCH_ORDINAL
        except (ValueError, OverflowError):
            readable &= inverse.reshape(-1) != k
    seconds = (day_numbers[inverse.reshape(-1)] * 86400
               + (hour * 3600 + minute * 60 + second)).astype(np.float64)
    seconds[seconds < gpx._GPS_EPOCH] = np.nan
    return seconds, readable


def epoch(text: str | None, days: dict[str, int | None]) -> float:
    """One <time> text -> epoch seconds: gpxpy's parse_time, then gpx._epoch."""
    match = _COMMON_TIME.match(text) if text else None
    if match is None:
        return gpx._epoch(TIME_TYPE.from_string(text))
    day, hour, minute, second, fraction = match.groups()
    if day not in days:
        try:
            days[day] = date(int(day[:4]), int(day[5:7]), int(day[8:])).toordinal()
        except ValueError:
            days[day] = None
    if days[day] is None or int(hour) > 23 or int(minute) > 59 or int(second) > 59:
        return gpx._epoch(TIME_TYPE.from_string(text))
    seconds = ((days[day] - _EPOCH_ORDINAL) * 86400 + int(hour) * 3600 + int(minute) * 60
               + int(second))
    if fraction:  # gpxpy keeps microseconds; timedelta.total_seconds() divides exactly
        seconds = (seconds * 1_000_000 + int(fraction[:6].ljust(6, "0"))) / 1_000_000
    return float(seconds) if seconds >= gpx._GPS_EPOCH else math.nan
