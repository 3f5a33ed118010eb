"""Heart-rate load (hrTSS) and heart-rate drift (aerobic decoupling) of one activity.

hrTSS is Banister's exponential TRIMP scaled so that one hour at the lactate threshold
heart rate (LTHR) is 100, like an hour at FTP in TSS:

    x(hr)  = (hr − hr_rest) / (hr_max − hr_rest)         heart-rate reserve, clipped to 0…1
    w(x)   = x · e^(b·x)                                  TRIMP weight per unit time, b = 1.92
    hrTSS  = 100 · Σ_seconds w(x(hr)) / (3600 · w(x(LTHR)))

References: E. W. Banister, "Modeling elite athletic performance", in Physiological
Testing of the High-Performance Athlete, Human Kinetics, 1991; R. H. Morton,
J. R. Fitz-Clarke, E. W. Banister, "Modeling human performance in running", J. Appl.
Physiol. 69(3), 1990 (the weighting 0.64·e^(1.92·x) for men, 0.86·e^(1.67·x) for women;
the factor in front cancels in the scaling, only b remains).

Why this one and not hours × (avg HR / LTHR)² × 100: the ratio to LTHR ignores the
resting rate, so an easy hour at 75 % of LTHR scores 56, where an easy ride (IF 0.6–0.65)
earns 36–42 TSS; the reserve with an exponential weight gives 36 (rest 50, LTHR 170,
max 190 bpm) and rises steeply above threshold, as TSS does with IF². It costs two more
numbers (resting and maximum heart rate), which the user sets once. The sum runs per second on
seconds.per_second's grid (pauses cut), over the seconds with a reading above 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core import motion
from core.track import Track
from core.training import seconds

#: Banister's exponent for men (Morton et al. 1990); 1.67 is theirs for women.
TRIMP_B = 1.92
#: Moving time below which drift is not reported: over shorter halves warm-up, not
#: drift, moves the ratio.
MIN_DRIFT_S = 1200.0


def is_valid(*, lthr: float | None, hr_rest: float | None, hr_max: float | None) -> bool:
    """Whether the three thresholds can scale a load: rest < LTHR < max."""
    return None not in (lthr, hr_rest, hr_max) and 0 < hr_rest < lthr < hr_max


def weight(hr: np.ndarray | float, *, hr_rest: float, hr_max: float) -> np.ndarray:
    """Banister's TRIMP weight per unit time, without the constant factor."""
    reserve = np.clip((np.asarray(hr, dtype=float) - hr_rest) / (hr_max - hr_rest), 0.0, 1.0)
    return reserve * np.exp(TRIMP_B * reserve)


def hr_tss(track: Track, *, lthr: float, hr_rest: float, hr_max: float) -> float | None:
    """hrTSS (module docstring); None without heart rate or time, with invalid thresholds,
    or when no second has a reading."""
    if not (track.has("hr") and is_valid(lthr=lthr, hr_rest=hr_rest, hr_max=hr_max)):
        return None
    grid = seconds.per_second(track, "hr")
    if grid is None:
        return None
    with np.errstate(invalid="ignore"):
        hr = grid.values[grid.values > 0]  # NaN compares False: no reading, no time
    if len(hr) == 0:
        return None
    hour_at_threshold = 3600 * float(weight(lthr, hr_rest=hr_rest, hr_max=hr_max))
    return 100 * math.fsum(weight(hr, hr_rest=hr_rest, hr_max=hr_max)) / hour_at_threshold


@dataclass(frozen=True, kw_only=True)
class Drift:
    """Aerobic decoupling: how much the output-to-heart-rate ratio fell from the first
    half of the moving time to the second, in percent (positive: the heart worked harder
    for the same output)."""

    percent: float
    basis: str  # "power" (W per bpm) or "speed" (m/s per bpm)
    first_ratio: float
    second_ratio: float


def drift(track: Track) -> Drift | None:
    """Decoupling over the moving steps (motion.moving_steps: no pauses, no standing):

    1. each moving step counts its duration, its first point's heart rate and power (or
       the step's speed without a power column);
    2. the moving time is cut in two equal halves, a step across the middle shared;
    3. per half, ratio = time-weighted mean output / time-weighted mean heart rate, over
       the steps where both are known;
    4. percent = (first − second) / first × 100.
    None without heart rate, time or output, under MIN_DRIFT_S of moving time, or when a
    half has no step with both known or no output at all.
    """
    if not (track.has("hr") and track.has("time")):
        return None
    first, dt, speed = motion.moving_steps(track)
    with np.errstate(invalid="ignore"):
        moving = (dt > 0) & (dt <= motion.GAP_S) & ~(speed < motion.STOP_SPEED_MPS)
    first, dt, speed = first[moving], dt[moving], speed[moving]
    basis = "power" if track.has("power") else "speed"
    output = track.power[first] if basis == "power" else speed
    hr = track.hr[first]
    total = float(np.sum(dt))
    if total < MIN_DRIFT_S:
        return None
    before = np.cumsum(dt) - dt
    in_first = np.clip(total / 2 - before, 0.0, dt)
    with np.errstate(invalid="ignore"):
        known = np.isfinite(output) & np.isfinite(hr) & (hr > 0)
    ratios = []
    for share in (in_first, dt - in_first):
        w = np.where(known, share, 0.0)
        if not np.sum(w) > 0:
            return None
        ratios.append(float(np.sum(w * np.where(known, output, 0.0)) /
                            np.sum(w * np.where(known, hr, 0.0))))
    if not ratios[0] > 0:
        return None
    return Drift(percent=(ratios[0] - ratios[1]) / ratios[0] * 100, basis=basis,
                 first_ratio=ratios[0], second_ratio=ratios[1])
