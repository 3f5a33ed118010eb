// The heatmap's PNG laid over a Leaflet map (static/leaflet/, vendored; window.L): tiles
// from CAIRN_MAP_TILES, else a plain background; a scale in the user's units. The image
// is drawn in Web Mercator, as Leaflet's map is, so its corners are all it needs. Without
// Leaflet (or scripts) the page keeps the plain image.
const L = window.L;
const config = JSON.parse(document.getElementById("heatmap-config").textContent);
const figure = document.getElementById("heatmap");

if (L && figure) {
  const holder = document.createElement("div");
  holder.className = "map";
  holder.id = "heatmap-map";
  holder.setAttribute("role", "region");
  holder.setAttribute("aria-label", config.label);
  figure.querySelector(".fallback").replaceWith(holder);
  const map = L.map(holder, { scrollWheelZoom: false, attributionControl: Boolean(config.tiles) });
  if (config.tiles) {
    L.tileLayer(config.tiles, { maxZoom: 19, attribution: config.attribution }).addTo(map);
  } else {
    holder.classList.add("no-tiles");
  }
  map.fitBounds(config.focus, { padding: [16, 16], maxZoom: 16 });
  L.imageOverlay(config.image, config.bounds, { className: "heat-layer", alt: "" }).addTo(map);
  const imperial = config.units === "imperial";
  L.control.scale({ metric: !imperial, imperial, position: "bottomleft" }).addTo(map);
  document.body.dataset.drawn = "true";
}
