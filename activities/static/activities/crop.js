// The revise page's profile: drag across it to fill the crop's From and To, click it to
// fill Split at. The fields stay the way to type times (and the keyboard's way); this only
// draws the activity (its playback: wall-clock seconds from the start, as the fields take
// them) and writes into them.
import { svg } from "./svg.js";

const W = 1000;
const H = 100;
const known = (v) => v !== null && v !== undefined && Number.isFinite(v);

function clock(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const pad = (n) => String(n).padStart(2, "0");
  return `${Math.floor(s / 3600)}:${pad(Math.floor((s % 3600) / 60))}:${pad(s % 60)}`;
}

function profile(data) {
  for (const key of ["ele_m", "speed_mps", "hr_bpm"]) {
    if (Array.isArray(data[key]) && data[key].some(known)) return data[key];
  }
  return null;
}

function draw(figure, data) {
  const xs = data.elapsed_s;
  const ys = profile(data);
  const end = xs[xs.length - 1];
  if (!ys || !(end > 0)) return;
  const values = ys.filter(known);
  let low = Math.min(...values);
  let high = Math.max(...values);
  if (high - low < 1e-9) { low -= 1; high += 1; }
  const toX = (x) => (x / end) * W;
  const toY = (y) => H - 4 - ((y - low) / (high - low)) * (H - 8);
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none",
                            "aria-hidden": "true" });
  let d = "";
  let pen = false;
  xs.forEach((x, i) => {
    if (known(x) && known(ys[i])) {
      d += `${pen ? "L" : "M"}${toX(x).toFixed(1)} ${toY(ys[i]).toFixed(2)}`;
      pen = true;
    } else pen = false;
  });
  svg("path", { d, class: "line" }, root);
  const band = svg("rect", { x: 0, y: 0, width: 0, height: H, class: "selection",
                             visibility: "hidden" }, root);
  const mark = svg("line", { x1: 0, x2: 0, y1: 0, y2: H, class: "cursor",
                             visibility: "hidden" }, root);
  figure.querySelector(".plot").append(root);
  figure.hidden = false;

  const said = figure.querySelector("[role=status]");
  const at = (event) => {
    const box = root.getBoundingClientRect();
    return Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)) * end;
  };
  let from = null;
  root.addEventListener("pointerdown", (event) => {
    from = at(event);
    root.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  root.addEventListener("pointermove", (event) => {
    if (from === null) return;
    const to = at(event);
    band.setAttribute("x", toX(Math.min(from, to)).toFixed(1));
    band.setAttribute("width", Math.abs(toX(to) - toX(from)).toFixed(1));
    band.setAttribute("visibility", "visible");
  });
  root.addEventListener("pointerup", (event) => {
    if (from === null) return;
    const to = at(event);
    const [a, b] = [Math.min(from, to), Math.max(from, to)];
    from = null;
    if (toX(b) - toX(a) < 4) {  // a click, not a drag: where to split
      band.setAttribute("visibility", "hidden");
      mark.setAttribute("x1", toX(a).toFixed(1));
      mark.setAttribute("x2", toX(a).toFixed(1));
      mark.setAttribute("visibility", "visible");
      document.getElementById("split-at").value = clock(a);
      said.textContent = `Split at ${clock(a)}: press Preview under Split in two to see both parts.`;
      return;
    }
    mark.setAttribute("visibility", "hidden");
    document.getElementById("crop-start").value = clock(a);
    document.getElementById("crop-end").value = clock(b);
    said.textContent = `Keep ${clock(a)} to ${clock(b)}: press Preview under Crop to see the new distance and time.`;
  });
}

const figure = document.getElementById("crop-chart");
if (figure) {
  fetch(figure.dataset.playback, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => { if (data && data.axis === "time" && Array.isArray(data.elapsed_s)) draw(figure, data); })
    .catch(() => {});  // the fields still work
}
