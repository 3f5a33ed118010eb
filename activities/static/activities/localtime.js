// Times are rendered in UTC on the server (it cannot know the reader's zone); show them in
// the browser's own zone instead.
const style = { dateStyle: "medium", timeStyle: "short" };
for (const node of document.querySelectorAll("time[data-local]")) {
  const when = new Date(node.getAttribute("datetime"));
  if (!Number.isNaN(when.getTime())) {
    node.title = node.textContent;
    node.textContent = when.toLocaleString(undefined, style);
  }
}
