"""One activity's training load: TSS from power when there is power and an FTP, else
hrTSS from heart rate and its thresholds, else no load and a one-word reason why."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.track import Track
from core.training import heartrate, power

#: Why an activity has no load.
NO_TIMESTAMPS = "no_timestamps"  # nothing can be timed
NO_POWER_OR_HR = "no_power_or_hr"  # neither column was recorded
NO_THRESHOLD = "no_threshold"  # the columns there lack their threshold (FTP; LTHR, rest, max)
#: Under 30 s of power, no timed heart-rate reading (or, rarely, over a week of recording:
#: seconds.per_second makes no grid so long).
TOO_SHORT = "too_short"


@dataclass(frozen=True, kw_only=True)
class Load:
    """`value` in TSS points and where it came from ("power" or "heart_rate"), or None
    and a `reason` (one of the codes above)."""

    value: float | None
    source: str | None = None
    reason: str | None = None


def activity_load(track: Track, *, ftp_w: float | None = None, lthr: float | None = None,
                  hr_rest: float | None = None, hr_max: float | None = None) -> Load:
    """The activity's load from the thresholds in force on its day (thresholds.values_on).

    Power wins when it can give a TSS; heart rate stands in when power cannot (no power,
    no FTP, too short), so a ride whose meter died still counts.
    """
    if not track.has("time") or track.n < 2:
        return Load(value=None, reason=NO_TIMESTAMPS)
    # A strap that sent only zeros (some head units write 0 for no strap) recorded nothing.
    has_power, has_hr = track.has("power"), bool(np.nanmax(track.hr, initial=0.0) > 0)
    if not (has_power or has_hr):
        return Load(value=None, reason=NO_POWER_OR_HR)
    has_ftp = ftp_w is not None and ftp_w > 0
    hr_ready = heartrate.is_valid(lthr=lthr, hr_rest=hr_rest, hr_max=hr_max)
    if has_power and has_ftp:
        ride = power.ride(track, ftp_w=ftp_w)
        if ride is not None:
            return Load(value=ride.tss, source="power")
    if has_hr and hr_ready:
        value = heartrate.hr_tss(track, lthr=lthr, hr_rest=hr_rest, hr_max=hr_max)
        if value is not None:
            return Load(value=value, source="heart_rate")
    tried = (has_power and has_ftp) or (has_hr and hr_ready)
    return Load(value=None, reason=TOO_SHORT if tried else NO_THRESHOLD)
