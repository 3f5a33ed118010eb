// Follow an upload or an activity until it settles, polling its JSON. The delay starts at
// 2 s and grows by half each time nothing changed, up to 30 s, so a long file does not
// cost a request every 2 s; any change brings it back to 2 s.

export const FIRST_DELAY_MS = 2000;
export const MAX_DELAY_MS = 30000;
// Uploads end ready or failed; an activity may also end dead (retries exhausted).
const SETTLED = new Set(["ready", "failed", "dead"]);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function nextDelay(delay, changed) {
  return changed ? FIRST_DELAY_MS : Math.min(MAX_DELAY_MS, Math.round(delay * 1.5));
}

async function fetchJson(url) {
  const response = await fetch(url, {
    headers: { Accept: "application/json" }, credentials: "same-origin",
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(body?.error?.message || `the server answered ${response.status}`);
  }
  return body;
}

const fingerprint = (body) => JSON.stringify([body.status, body.progress ?? body.versions]);

// onUpdate(body) after each successful poll; onTrouble(message) when a poll fails (it is
// retried). Resolves with the last body once its status is settled.
export async function watch(url, { onUpdate, onTrouble = () => {}, first = null }) {
  if (first && SETTLED.has(first.status)) return first;
  let delay = FIRST_DELAY_MS;
  let last = first ? fingerprint(first) : "";
  for (;;) {
    await sleep(delay);
    let body;
    try {
      body = await fetchJson(url);
    } catch (error) {
      onTrouble(`Could not check the status (${error.message}); trying again.`);
      delay = nextDelay(delay, false);
      continue;
    }
    onUpdate(body);
    if (SETTLED.has(body.status)) return body;
    delay = nextDelay(delay, fingerprint(body) !== last);
    last = fingerprint(body);
  }
}

// The progress map ({step: done}) as a bar and a percentage: people want to know how far
// along it is, not the names of the steps (the debug timeline has those). activities/
// display.py's progress_percent counts the same way.
export function renderProgress(node, progress, { failed = false } = {}) {
  const steps = Object.values(progress);
  const percent = steps.length ? Math.round((100 * steps.filter(Boolean).length) / steps.length) : 0;
  let bar = node.querySelector("progress");
  let text = node.querySelector(".percent");
  if (!bar || !text) {
    bar = document.createElement("progress");
    bar.max = 100;
    bar.setAttribute("aria-label", "Processing");
    text = document.createElement("span");
    text.className = "percent";
    node.replaceChildren(bar, " ", text);
  }
  bar.value = percent;
  text.textContent = failed ? `Stopped at ${percent} %` : `Processing: ${percent} %`;
  node.hidden = false;
}
