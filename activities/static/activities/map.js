// The route on a Leaflet map (static/leaflet/, vendored; window.L). Tiles come from the
// CAIRN_MAP_TILES setting; without them the route is drawn on a plain background, so the
// page works offline and in tests. Returns the playback marker's mover, as drawRoute does.
const L = window.L;

function segments(points, starts) {
  const cuts = [...new Set([0, ...(starts || [])])].sort((a, b) => a - b);
  return cuts.map((start, i) => points.slice(start, cuts[i + 1] ?? points.length))
    .filter((part) => part.length);
}

function dot(at, className, radius) {
  return L.circleMarker(at, { radius, className, interactive: false, weight: 3 });
}

export function drawMap(figure, route, { label, tiles, attribution }) {
  const holder = document.createElement("div");
  holder.className = "map";
  holder.id = "route-map";
  holder.setAttribute("role", "region");
  holder.setAttribute("aria-label", label);
  const caption = document.createElement("figcaption");
  caption.className = "muted";
  caption.textContent = "Green dot: start. Black ring: finish (around the start where a loop ends). Blue: playback position.";
  figure.replaceChildren(holder, caption);
  figure.classList.add("has-map");
  const map = L.map(holder, { scrollWheelZoom: false, attributionControl: Boolean(tiles) });
  if (tiles) {
    L.tileLayer(tiles, { maxZoom: 19, attribution }).addTo(map);
  } else {
    holder.classList.add("no-tiles");
  }
  // The view first: Leaflet adds layers to a map without one only once it has one.
  map.fitBounds(L.latLngBounds(route.points), { padding: [24, 24] });
  const parts = segments(route.points, route.segment_starts);
  L.polyline(parts, { className: "shadow", interactive: false }).addTo(map);
  const line = L.polyline(parts, { className: "track", interactive: false }).addTo(map);
  line.getElement().id = "route-line";
  const first = route.points[0];
  // Largest first: where a loop ends at its start, the finish, the playback marker (at
  // the start until it moves) and the start nest as rings, each still seen.
  dot(route.points[route.points.length - 1], "finish", 13).addTo(map);
  const marker = dot(first, "marker", 9).addTo(map);
  dot(first, "start", 5).addTo(map);
  const element = marker.getElement();
  element.id = "marker";
  return (lat, lon) => {
    const shown = Number.isFinite(lat) && Number.isFinite(lon);
    element.style.visibility = shown ? "visible" : "hidden";
    if (!shown) return;
    marker.setLatLng([lat, lon]);
    element.dataset.at = `${lat.toFixed(6)},${lon.toFixed(6)}`;  // for tests and scripts
  };
}

export const mapAvailable = () => Boolean(L);
