// Activity times come from the server in the activity's own zone, named where it differs
// from the reader's (activities/times.py). Two cases are left to the browser: a time
// whose zone nobody knows (sent in UTC: shown in the browser's zone), and a zone's name
// for a reader who chose no zone (hidden when the browser's zone is that zone).
const style = { dateStyle: "medium", timeStyle: "short" };
for (const node of document.querySelectorAll("time[data-local]")) {
  const when = new Date(node.getAttribute("datetime"));
  if (!Number.isNaN(when.getTime())) {
    node.title = node.textContent;
    node.textContent = when.toLocaleString(undefined, style);
  }
}
const own = Intl.DateTimeFormat().resolvedOptions().timeZone;
for (const node of document.querySelectorAll(".zone-note[data-zone]")) {
  if (node.dataset.zone === own) node.hidden = true;
}
