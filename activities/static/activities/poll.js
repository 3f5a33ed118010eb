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

// The progress map as <li> items: "track: done", "charts: waiting" (or "not done" once
// the upload failed: nothing more will happen until someone reprocesses it).
export function renderProgress(list, progress, { failed = false } = {}) {
  const pending = failed ? "not done" : "waiting";
  list.replaceChildren(...Object.entries(progress).map(([name, done]) => {
    const item = document.createElement("li");
    item.className = done ? "done" : "waiting";
    item.dataset.deriver = name;
    item.textContent = `${name}: ${done ? "done" : pending}`;
    return item;
  }));
  list.hidden = false;
}
