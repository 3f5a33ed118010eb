// A tiny helper to build SVG elements.
const NS = "http://www.w3.org/2000/svg";

export function svg(name, attributes = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (parent) parent.append(node);
  return node;
}
