// Tables wider than the screen scroll inside their own box, never the page: each table
// not already in one is wrapped, and a box that does scroll is made focusable (so that a
// keyboard can scroll it) and named for screen readers. Tables marked "stacking" turn into
// label/value lines on a phone instead (cairn.css) and are left alone.

function nameOf(table) {
  const caption = table.querySelector("caption");
  const heading = table.closest("section")?.querySelector("h2, h3");
  return table.getAttribute("aria-label") || caption?.textContent.trim()
    || heading?.textContent.trim() || "Table";
}

function wrap(table) {
  let box = table.parentElement;
  if (!box.classList.contains("table-scroll")) {
    box = document.createElement("div");
    box.className = "table-scroll";
    table.before(box);
    box.append(table);
  }
  return box;
}

function mark(box, table) {
  const scrolls = box.scrollWidth > box.clientWidth + 1;
  if (scrolls && !box.hasAttribute("tabindex")) {
    box.setAttribute("tabindex", "0");
    box.setAttribute("role", "region");
    box.setAttribute("aria-label", `${nameOf(table)} (scrolls sideways)`);
  } else if (!scrolls && box.getAttribute("role") === "region") {
    box.removeAttribute("tabindex");
    box.removeAttribute("role");
    box.removeAttribute("aria-label");
  }
}

const boxes = [...document.querySelectorAll("main table:not(.stacking)")]
  .map((table) => [wrap(table), table]);
const update = () => boxes.forEach(([box, table]) => mark(box, table));
update();
window.addEventListener("resize", update);
