// The activity page: draws the route, the charts and the playback from the API, or, while
// the activity is being processed, follows it and reloads the page once it is done.
import { drawCharts } from "./charts.js";
import { makeFormat } from "./format.js";
import { Playback } from "./playback.js";
import { renderProgress, watch } from "./poll.js";
import { drawMap, mapAvailable } from "./map.js";
import { drawRoute } from "./route.js";

const config = JSON.parse(document.getElementById("activity-config").textContent);
const fmt = makeFormat(config.units);
const byId = (id) => document.getElementById(id);

// A shared page reads the shared outputs (config.base), the owner's page their own.
const base = config.base || `/api/v1/activities/${config.id}`;

async function fetchOutput(kind) {
  try {
    const response = await fetch(`${base}/${kind}`, {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    });
    return response.ok ? await response.json() : null;
  } catch {
    return null;
  }
}

function followProcessing() {
  const status = byId("pending-status");
  const list = byId("pending-derivers");
  watch(`/api/v1/activities/${config.id}`, {
    onUpdate: (activity) => {
      status.textContent = `This activity is ${activity.status}; the page updates by itself.`;
      if (activity.progress) renderProgress(list, activity.progress);
    },
    onTrouble: (message) => { status.textContent = message; },
  }).then(() => window.location.reload());
}

// The charts with their distance/time toggle; returns a function that moves the cursor
// to a playback sample, whichever axis is shown.
function showCharts(charts) {
  const container = byId("charts");
  if (!charts) {
    container.textContent = "The charts are not available for this activity.";
    return () => {};
  }
  const toggle = byId("chart-axis");
  let axis = "distance";
  let last = null;
  let setCursor = drawCharts(container, charts, { fmt, axis });
  const move = (sample) => {
    last = sample;
    setCursor(axis === "time" ? sample.time_s : sample.distance_m);
  };
  if (charts.by_distance && charts.by_time) {
    toggle.hidden = false;
    toggle.querySelector("input[value=distance]").checked = true;
    toggle.addEventListener("change", (event) => {
      axis = event.target.value;
      setCursor = drawCharts(container, charts, { fmt, axis });
      if (last) move(last);
    });
  } else if (!charts.by_distance) {
    // Drawn against time (an indoor ride records no distance): the toggle stays hidden
    // and says so, never "Distance" ticked.
    axis = "time";
    toggle.querySelector("input[value=time]").checked = true;
    setCursor = drawCharts(container, charts, { fmt, axis });
  }
  return move;
}

function showPlayback(playback, { pace, onMove }) {
  const root = byId("playback");
  if (!playback || !playback.count) {
    const missing = byId("playback-missing");
    missing.textContent = "There is nothing to replay for this activity.";
    missing.hidden = false;
    return;
  }
  root.hidden = false;
  byId("readout-speed-label").textContent = pace ? "Pace" : "Speed";
  if (playback.axis !== "time") {
    // No timestamps: nothing happened in time to replay. The slider still moves along
    // the route (by distance); playing, its speeds and the elapsed time are left out.
    for (const node of [byId("play"), byId("speed").closest("p"), root.querySelector(".hint"),
                        byId("readout-elapsed").closest("div")]) node.hidden = true;
    byId("playback-title").textContent = "Along the route";
    const missing = byId("playback-missing");
    missing.textContent = "This file has no timestamps, so there is nothing to replay in time: move the slider along the route.";
    missing.hidden = false;
  }
  const elements = {
    root, play: byId("play"), range: byId("position"), speed: byId("speed"),
    readouts: { elapsed: byId("readout-elapsed"), distance: byId("readout-distance"),
                speed: byId("readout-speed"), hr: byId("readout-hr"), ele: byId("readout-ele") },
  };
  new Playback(playback, { elements, fmt, pace, onMove });
}

async function showActivity() {
  const figure = byId("route");
  if (!figure) return;  // no summary yet: nothing to draw
  const [route, charts, playback] = await Promise.all(
    ["route", "charts", "playback"].map(fetchOutput));
  const name = document.querySelector("h1").textContent.trim();
  const label = `Route of ${name}`;
  // The map where Leaflet loaded and there is a route to put on it; else the plain SVG.
  const onMap = route && route.points.length && mapAvailable();
  const moveMarker = !route ? null : onMap
    ? drawMap(figure, route, { label, tiles: config.tiles, attribution: config.attribution })
    : drawRoute(figure, route, { label });
  const moveCursor = showCharts(charts);
  const pace = charts ? charts.speed_kind === "pace" : config.pace;
  showPlayback(playback, {
    pace,
    onMove: (sample) => {
      if (moveMarker) moveMarker(sample.lat, sample.lon);
      moveCursor(sample);
    },
  });
  document.body.dataset.drawn = "true";  // for tests and for anyone scripting the page
}

if (!config.settled && !config.base) followProcessing();
showActivity();
