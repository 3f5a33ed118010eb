// Numbers as people read them, in the user's units. The browser half of
// activities/display.py: keep the two in step.

export const M_PER_MI = 1609.344;
const FT_PER_M = 1 / 0.3048;
// Below this a pace is minutes per step, not worth showing (the charts' stop speed).
const MIN_PACE_SPEED_MPS = 0.5;
export const NONE = "—";

const known = (value) => value !== null && value !== undefined && Number.isFinite(value);

function fixed(value, digits) {
  return value.toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function duration(seconds) {
  if (!known(seconds)) return NONE;
  const whole = Math.round(seconds);
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const secs = String(whole % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

export function makeFormat(units) {
  const imperial = units === "imperial";
  const perUnit = imperial ? M_PER_MI : 1000;
  const unitName = imperial ? "mi" : "km";
  const fmt = {
    imperial,
    distanceUnit: unitName,
    distance: (m) => (known(m) ? `${fixed(m / perUnit, 2)} ${unitName}` : NONE),
    elevation: (m) => (known(m) ? (imperial ? `${fixed(m * FT_PER_M, 0)} ft` : `${fixed(m, 0)} m`) : NONE),
    elevationValue: (m) => (imperial ? m * FT_PER_M : m),
    elevationUnit: imperial ? "ft" : "m",
    speed: (mps) => (known(mps) ? `${fixed(mps * 3600 / perUnit, 1)} ${imperial ? "mph" : "km/h"}` : NONE),
    speedValue: (mps) => mps * 3600 / perUnit,
    speedUnit: imperial ? "mph" : "km/h",
    // Pace from a speed: time per kilometre or mile.
    pace: (mps) => (known(mps) && mps >= MIN_PACE_SPEED_MPS ? fmt.paceOf(perUnit / mps) : NONE),
    // Pace from seconds per unit (already converted).
    paceOf: (seconds) => (known(seconds) ? `${duration(seconds)} /${unitName}` : NONE),
    paceUnit: `/${unitName}`,
    perUnit,
    hr: (bpm) => (known(bpm) ? `${Math.round(bpm)} bpm` : NONE),
    duration,
  };
  return fmt;
}
