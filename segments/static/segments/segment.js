// The segment on the activity page's Leaflet map (tiles from CAIRN_MAP_TILES, else a plain
// background); without Leaflet the server's drawing stays.
import { drawMap, mapAvailable } from "../activities/map.js";

const config = JSON.parse(document.getElementById("segment-config").textContent);
const figure = document.getElementById("route");
if (figure && config.points.length > 1 && mapAvailable()) {
  drawMap(figure, { points: config.points, bbox: config.bbox }, {
    label: config.label, tiles: config.tiles, attribution: config.attribution,
  });
  // No playback here: the marker would be a third dot at the start.
  document.getElementById("marker")?.remove();
  const caption = figure.querySelector("figcaption");
  if (caption) caption.textContent = "Green dot: start. Black ring: finish.";
}
