// The activity page's "save a stretch as a segment" form: drag across the activity's
// elevation profile (against the distance from the start, as the charts measure it) to
// fill From and To. The fields stay the way to type distances (and the keyboard's way).
import { svg } from "../activities/svg.js";

const W = 1000;
const H = 100;
const known = (v) => v !== null && v !== undefined && Number.isFinite(v);

function draw(figure, data) {
  const xs = data.distance_m;
  const ys = (data.ele_m || []).some(known) ? data.ele_m : null;
  const end = Math.max(...xs.filter(known));
  if (!ys || !(end > 0)) return;
  const unit = Number(figure.dataset.unitM);
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
  figure.querySelector(".plot").append(root);
  figure.hidden = false;

  const said = figure.querySelector("[role=status]");
  const at = (event) => {
    const box = root.getBoundingClientRect();
    return Math.min(1, Math.max(0, (event.clientX - box.left) / box.width)) * end;
  };
  const shown = (metres) => (metres / unit).toFixed(2);
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
    if (toX(b) - toX(a) < 4) return;  // a click, not a drag
    document.getElementById("segment-start").value = shown(a);
    document.getElementById("segment-end").value = shown(b);
    said.textContent = `From ${shown(a)} to ${shown(b)} ${figure.dataset.unit}: name it and press Save segment.`;
  });
}

const figure = document.getElementById("segment-chart");
if (figure) {
  fetch(figure.dataset.playback, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => { if (data && Array.isArray(data.distance_m)) draw(figure, data); })
    .catch(() => {});  // the fields still work
}
