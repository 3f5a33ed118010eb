// Elevation, speed (or pace), heart-rate, cadence and power charts from the charts JSON, as plain SVG.
// The plot stretches to any width (preserveAspectRatio="none", strokes that do not scale);
// the labels are HTML around it, so they stay readable on a phone.
import { svg } from "./svg.js";

const W = 1000;
const H = 100;

const known = (v) => v !== null && v !== undefined && Number.isFinite(v);

function percentile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))];
}

// The profiles this activity has, each with its values in display units and a label.
// Cadence: devices count a runner's strides (one foot); people count steps, twice as many.
// A bike's cadence is pedal turns, rpm.
function profiles(data, fmt, foot) {
  const cadence = foot
    ? { title: "Cadence (steps/min)", value: (v) => v * 2, label: (v) => `${Math.round(v)} spm` }
    : { title: "Cadence (rpm)", value: (v) => v, label: (v) => `${Math.round(v)} rpm` };
  const paceScale = fmt.perUnit / 1000;  // s/km to s per the user's unit
  return [
    { key: "elevation_m", kind: "elevation", title: `Elevation (${fmt.elevationUnit})`,
      value: fmt.elevationValue, label: (v) => fmt.elevation(v / fmt.elevationValue(1)) },
    { key: "speed_mps", kind: "speed", title: `Speed (${fmt.speedUnit})`,
      value: fmt.speedValue, label: (v) => `${v.toFixed(1)} ${fmt.speedUnit}` },
    // Faster is up: the axis runs from the slowest pace at the bottom to the fastest.
    { key: "pace_s_per_km", kind: "speed", title: `Pace (min ${fmt.paceUnit})`, invert: true,
      robust: true, value: (v) => v * paceScale, label: (v) => fmt.paceOf(v) },
    { key: "hr_bpm", kind: "hr", title: "Heart rate (bpm)", value: (v) => v,
      label: (v) => `${Math.round(v)} bpm` },
    { key: "cadence", kind: "cadence", ...cadence },
    // Not robust: the chart's top is the summary's top power (the deriver keeps the peak).
    { key: "power_w", kind: "power", title: "Power (W)", value: (v) => v,
      label: (v) => `${Math.round(v)} W` },
  ].filter((p) => Array.isArray(data[p.key]) && data[p.key].some(known));
}

function yRange(values, { robust }) {
  const sorted = values.filter(known).sort((a, b) => a - b);
  let low = sorted[0];
  // A pace while nearly standing is huge and would flatten everything else.
  let high = robust ? percentile(sorted, 0.98) : sorted[sorted.length - 1];
  if (high - low < 1e-9) { low -= 1; high += 1; }
  return [low, high];
}

function paths(xs, ys, toX, toY) {
  let line = "";
  let area = "";
  let run = [];
  const flush = () => {
    if (run.length) {
      line += run.map(([x, y], i) => `${i ? "L" : "M"}${x.toFixed(1)} ${y.toFixed(2)}`).join("");
      area += `M${run[0][0].toFixed(1)} ${H}` + run.map(([x, y]) => `L${x.toFixed(1)} ${y.toFixed(2)}`).join("")
        + `L${run[run.length - 1][0].toFixed(1)} ${H}Z`;
    }
    run = [];
  };
  xs.forEach((x, i) => {
    if (known(x) && known(ys[i])) run.push([toX(x), toY(ys[i])]);
    else flush();
  });
  flush();
  return { line, area };
}

function textNode(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  node.textContent = text;
  return node;
}

function chart(profile, xs, domain, xLabel, axisName) {
  const ys = profile.values.map((v) => (known(v) ? profile.value(v) : null));
  const [low, high] = yRange(ys, profile);
  const toX = (x) => ((x - domain[0]) / (domain[1] - domain[0])) * W;
  const toY = (y) => {
    const clamped = Math.min(high, Math.max(low, y));
    const t = (clamped - low) / (high - low);
    return profile.invert ? 4 + t * (H - 8) : H - 4 - t * (H - 8);
  };
  const top = profile.invert ? low : high;
  const bottom = profile.invert ? high : low;
  const figure = textNode("figure", `chart ${profile.kind}`, "");
  figure.dataset.profile = profile.key;
  const caption = textNode("figcaption", "", profile.title);
  caption.append(textNode("span", "", `${profile.label(bottom)} to ${profile.label(top)}`));
  const plot = textNode("div", "plot", "");
  const root = svg("svg", {
    viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img",
    "aria-label": `${profile.title} against ${axisName}, from ${profile.label(bottom)} to ${profile.label(top)}`,
  });
  for (const y of [25, 50, 75]) svg("line", { x1: 0, x2: W, y1: y, y2: y, class: "grid" }, root);
  const { line, area } = paths(xs, ys, toX, toY);
  svg("path", { d: area, class: "area" }, root);
  svg("path", { d: line, class: "line" }, root);
  const cursor = svg("line", { x1: 0, x2: 0, y1: 0, y2: H, class: "cursor", visibility: "hidden" }, root);
  plot.append(root, textNode("span", "y top", profile.label(top)),
              textNode("span", "y bottom", profile.label(bottom)));
  const axis = textNode("div", "x-axis", "");
  axis.setAttribute("aria-hidden", "true");
  for (const t of [0, 0.5, 1]) axis.append(textNode("span", "", xLabel(domain[0] + t * (domain[1] - domain[0]))));
  figure.append(caption, plot, axis);
  return { figure, cursor, toX };
}

// Draws the charts of one axis ("distance" or "time") into `container`; returns
// setCursor(x) that moves a line across every chart (x in metres or seconds).
export function drawCharts(container, charts, { fmt, axis }) {
  const data = axis === "time" ? charts.by_time : charts.by_distance;
  if (!data) {
    container.replaceChildren(textNode("p", "muted", `No ${axis} was recorded: nothing to chart.`));
    return () => {};
  }
  const xs = axis === "time" ? data.time_s : data.distance_m;
  const lastStep = xs.length > 1 ? (xs[xs.length - 1] - xs[xs.length - 2]) / 2 : 1;
  const domain = [0, xs[xs.length - 1] + lastStep];
  const xLabel = axis === "time" ? fmt.duration : fmt.distance;
  const found = profiles(data, fmt, charts.speed_kind === "pace").map((p) => ({ ...p, values: data[p.key] }));
  if (!found.length) {
    container.replaceChildren(textNode("p", "muted", "Nothing was recorded that could be charted."));
    return () => {};
  }
  const drawn = found.map((p) => chart(p, xs, domain, xLabel, axis));
  container.replaceChildren(...drawn.map((d) => d.figure));
  return (x) => {
    for (const { cursor, toX } of drawn) {
      if (!known(x)) { cursor.setAttribute("visibility", "hidden"); continue; }
      const at = Math.min(W, Math.max(0, toX(x))).toFixed(1);
      cursor.setAttribute("x1", at);
      cursor.setAttribute("x2", at);
      cursor.setAttribute("visibility", "visible");
    }
  };
}
