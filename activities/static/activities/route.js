// The route drawn as SVG from the route JSON: an equirectangular projection whose
// longitudes are scaled by cos(latitude) at the middle of the route, so that shapes are
// true away from the equator. No map tiles: nothing is fetched from anywhere.
import { svg } from "./svg.js";

const WIDTH = 1000;
const PAD = 40;

export function projection(bbox) {
  const midLat = (bbox.min_lat + bbox.max_lat) / 2;
  const k = Math.cos((midLat * Math.PI) / 180);
  const spanX = Math.max((bbox.max_lon - bbox.min_lon) * k, 1e-6);
  const spanY = Math.max(bbox.max_lat - bbox.min_lat, 1e-6);
  // Keep the drawing between a wide strip and a square, whatever the route's shape.
  const height = Math.round(Math.min(WIDTH, Math.max(WIDTH * 0.45, (WIDTH * spanY) / spanX)));
  const scale = Math.min((WIDTH - 2 * PAD) / spanX, (height - 2 * PAD) / spanY);
  const offsetX = (WIDTH - spanX * scale) / 2;
  const offsetY = (height - spanY * scale) / 2;
  return {
    width: WIDTH,
    height,
    at: (lat, lon) => [
      offsetX + (lon - bbox.min_lon) * k * scale,
      offsetY + (bbox.max_lat - lat) * scale,
    ],
  };
}

function pathData(points, starts, project) {
  const breaks = new Set(starts);
  return points.map(([lat, lon], i) => {
    const [x, y] = project(lat, lon);
    return `${i === 0 || breaks.has(i) ? "M" : "L"}${x.toFixed(1)} ${y.toFixed(1)}`;
  }).join("");
}

function boundsOf(points) {
  const lats = points.map((p) => p[0]);
  const lons = points.map((p) => p[1]);
  return { min_lat: Math.min(...lats), max_lat: Math.max(...lats),
           min_lon: Math.min(...lons), max_lon: Math.max(...lons) };
}

// Draws into `figure` (replacing the server's preview image); returns the marker's mover,
// or null when the activity has no positions.
export function drawRoute(figure, route, { label }) {
  if (!route.points.length) {
    const note = document.createElement("p");
    note.className = "muted";
    note.textContent = "No GPS positions were recorded (an indoor activity?): there is no route to draw.";
    figure.replaceChildren(note);
    return null;
  }
  const view = projection(route.bbox || boundsOf(route.points));
  const root = svg("svg", {
    viewBox: `0 0 ${view.width} ${view.height}`, role: "img", "aria-label": label,
    id: "route-map",
  });
  svg("title", {}, root).textContent = label;
  svg("rect", { width: view.width, height: view.height, fill: "#eef2f6", rx: 12 }, root);
  const d = pathData(route.points, route.segment_starts || [0], view.at);
  svg("path", { d, class: "shadow" }, root);
  svg("path", { d, class: "track", id: "route-line" }, root);
  const [sx, sy] = view.at(...route.points[0]);
  const [fx, fy] = view.at(...route.points[route.points.length - 1]);
  // Largest first: where a loop ends at its start, the finish, the playback marker (at
  // the start until it moves) and the start nest, each still seen.
  svg("rect", { x: fx - 15, y: fy - 15, width: 30, height: 30, class: "finish" }, root);
  const marker = svg("circle", { cx: sx, cy: sy, r: 11, class: "marker", id: "marker" }, root);
  svg("circle", { cx: sx, cy: sy, r: 6, class: "start" }, root);
  figure.replaceChildren(root);
  const caption = document.createElement("figcaption");
  caption.className = "muted";
  caption.textContent = "Green dot: start. Black square: finish (around the start where a loop ends). Blue: playback position.";
  figure.append(caption);
  return (lat, lon) => {
    const shown = Number.isFinite(lat) && Number.isFinite(lon);
    marker.style.visibility = shown ? "visible" : "hidden";
    if (!shown) return;
    const [x, y] = view.at(lat, lon);
    marker.setAttribute("cx", x.toFixed(1));
    marker.setAttribute("cy", y.toFixed(1));
  };
}
